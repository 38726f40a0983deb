"""The dataset description, the one owner of "which classes, which sets, where, in which role".

A description is a class list, sets with a role, and optionally a soundbank::

    classes: [Bird, Car_horn, Door_knock, Glass_break, Siren, Typing]
    soundbank: null                      # foreground folder of isolated sources (V_c); absent: V_c from labels
    sets:
      train:      {role: strong, audio: audio/train, labels: metadata/train.tsv}
      extra_tags: {role: weak, audio: audio/weak, labels: metadata/weak.tsv, classes: [Bird, Siren]}
      val:        {role: validation, audio: audio/val, labels: metadata/val.tsv, durations: metadata/val_durations.tsv}
      test:       {role: evaluation, audio: audio/test, labels: metadata/test.tsv}

Roles: ``strong``, ``weak``, ``unlabeled`` (training sets; one or more strong sets are required),
``validation`` (strongly labelled; selects checkpoints; exactly one) and ``evaluation`` (strongly
labelled; scored once with the best checkpoint; at most one, the validation set when absent).
A set's ``classes`` are those it annotates (default: all); the others are masked out of its clips'
loss. Paths are relative to the dataset root. A recipe gives the description inline
(``data.dataset: {...}``) or as a YAML file (``data.dataset: path.yaml``, relative to the working
directory); without one, the dataset is DESED 2021 in :class:`DesedLayout` (:func:`desed2021`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from tbfl.constants import DESED_CLASSES
from tbfl.data.layout import OVERRIDE_HINT, RESAMPLED_SUFFIX, DesedLayout, LayoutError
from tbfl.io import read_yaml

#: Set roles, in the order the training lists them.
ROLES = ("strong", "weak", "unlabeled", "validation", "evaluation")
#: The label kind of each role's label file.
LABEL_KIND = {"strong": "strong", "weak": "weak", "unlabeled": "unlabeled", "validation": "strong", "evaluation": "strong"}
_SET_KEYS = {"role", "audio", "labels", "durations", "classes"}
_TOP_KEYS = {"classes", "sets", "soundbank"}


class DatasetError(ValueError):
    """An invalid dataset description; the message names the file (or recipe key) and the entry."""


@dataclass(frozen=True)
class DatasetSet:
    """One set of a dataset: absolute paths, its role and the classes it annotates (a subset of the dataset's, in its order).

    ``durations`` is None when the set has no durations file (durations then come from the audio headers).
    ``layout_entries``: the (audio, labels) entries of :class:`DesedLayout` a DESED 2021 set comes from, named in errors.
    """

    name: str
    role: str
    audio: Path
    labels: Path
    classes: tuple[str, ...]
    durations: Path | None = None
    layout_entries: tuple[str, str] | None = None

    def _where(self, which: int) -> str:
        if self.layout_entries is None:
            return f"set {self.name!r} of the dataset description"
        entry = self.layout_entries[which]
        return f"layout entry {entry!r}; {OVERRIDE_HINT.format(name=entry)}"

    @property
    def label_kind(self) -> str:
        """``strong``, ``weak`` or ``unlabeled``: the format of the label file."""
        return LABEL_KIND[self.role]

    def audio_dir(self) -> Path:
        """The audio folder; a missing ``*_16k`` folder falls back to the original-rate folder beside it (features are resampled).

        :class:`LayoutError` names the path and the set when neither exists.
        """
        if self.audio.is_dir():
            return self.audio
        also = ""
        if self.audio.name.endswith(RESAMPLED_SUFFIX):
            original = self.audio.with_name(self.audio.name[: -len(RESAMPLED_SUFFIX)])
            if original.is_dir():
                return original
            also = f" nor {original}"
        raise LayoutError(f"{self.audio}: audio folder not found{also} ({self._where(0)})")

    def require_labels(self) -> Path:
        """The label file, or :class:`LayoutError` naming it and the set."""
        if not self.labels.is_file():
            raise LayoutError(f"{self.labels}: label file not found ({self._where(1)})")
        return self.labels

    def class_mask(self, classes: Sequence[str]) -> np.ndarray:
        """(C,) float32: 1 for the classes this set annotates, 0 for the others, in the order of ``classes``."""
        return class_mask(classes, self.classes)


@dataclass(frozen=True)
class DatasetDescription:
    """Classes, sets by role and the optional soundbank foreground folder of a dataset under ``root``.

    ``soundbank_background``: the soundbank's background folder (None: ``background`` beside the foreground folder).
    """

    root: Path
    classes: tuple[str, ...]
    sets: tuple[DatasetSet, ...]
    soundbank: Path | None = None
    source: str = "DESED 2021 layout"  # where the description came from, for messages
    soundbank_background: Path | None = None

    def by_role(self, role: str) -> tuple[DatasetSet, ...]:
        """The sets of one role, in description order."""
        if role not in ROLES:
            raise KeyError(f"unknown set role {role!r}; known: {list(ROLES)}")
        return tuple(s for s in self.sets if s.role == role)

    @property
    def validation(self) -> DatasetSet:
        """The set that selects checkpoints."""
        return self.by_role("validation")[0]

    @property
    def evaluation(self) -> DatasetSet:
        """The set scored with the best checkpoint (the validation set when there is no evaluation set)."""
        sets = self.by_role("evaluation")
        return sets[0] if sets else self.validation


def class_mask(classes: Sequence[str], annotated: Sequence[str]) -> np.ndarray:
    """(C,) float32 over ``classes``: 1 for a class in ``annotated``, else 0 (its loss terms are masked out)."""
    return np.array([name in annotated for name in classes], dtype=np.float32)


def desed2021(layout: DesedLayout) -> DatasetDescription:
    """DESED 2021 as a description: synthetic strong training, weak, unlabeled; synthetic validation selects
    checkpoints; the real validation set is the evaluation set; the soundbank gives V_c."""
    def entry(name: str, role: str, audio: str, labels: str, durations: str | None = None) -> DatasetSet:
        durations_path = None if durations is None else layout.path(durations)
        return DatasetSet(name, role, layout.path(audio), layout.path(labels), DESED_CLASSES, durations_path, (audio, labels))

    sets = (
        entry("synth_train", "strong", "synth_train_audio", "synth_train_tsv"),
        entry("weak", "weak", "weak_audio", "weak_tsv"),
        entry("unlabeled", "unlabeled", "unlabeled_audio", "unlabeled_tsv"),
        entry("synth_validation", "validation", "synth_val_audio", "synth_val_tsv", "synth_val_durations_tsv"),
        entry("validation", "evaluation", "validation_audio", "validation_tsv", "validation_durations_tsv"),
    )
    return DatasetDescription(
        layout.root, DESED_CLASSES, sets, layout.path("soundbank_foreground"), soundbank_background=layout.path("soundbank_background")
    )


def load_dataset(root: str | Path, dataset: str | Path | Mapping[str, Any] | None = None, layout: Mapping[str, str] | None = None) -> DatasetDescription:
    """The description of the dataset under ``root``: ``dataset`` inline (a mapping), a YAML file, or None for DESED 2021
    in the layout with ``layout`` overrides. :class:`DatasetError` (a ValueError) names the file or key of a bad entry."""
    if dataset is None:
        return desed2021(DesedLayout.from_config(root, layout))
    if layout:
        raise DatasetError(f"data.layout overrides the DESED 2021 layout; with data.dataset give the paths in the description instead (got data.layout keys {sorted(layout)})")
    if isinstance(dataset, Mapping):
        return description_from_dict(root, dataset, "data.dataset")
    path = Path(dataset)
    return description_from_dict(root, read_yaml(path, "dataset description"), str(path))


def description_from_dict(root: str | Path, values: Any, where: str) -> DatasetDescription:
    """Build and validate a description; every error names ``where`` (a file or recipe key) and the entry."""
    if not isinstance(values, Mapping):
        raise DatasetError(f"{where}: expected a mapping with 'classes' and 'sets'")
    unknown = sorted(set(values) - _TOP_KEYS)
    if unknown:
        raise DatasetError(f"{where}: unknown key(s) {unknown}; known: {sorted(_TOP_KEYS)}")
    classes = _class_list(values.get("classes"), f"{where}: classes")
    sets_values = values.get("sets")
    if not isinstance(sets_values, Mapping) or not sets_values:
        raise DatasetError(f"{where}: sets: expected a mapping of set name -> {{role, audio, labels, ...}}")
    root = Path(root)
    sets = tuple(_set(root, str(name), entry, classes, f"{where}: sets.{name}") for name, entry in sets_values.items())
    counts = {role: sum(s.role == role for s in sets) for role in ROLES}
    if counts["strong"] < 1:
        raise DatasetError(f"{where}: sets: no set with role 'strong' (strongly labelled training clips are needed for r_c and the frame loss)")
    if counts["validation"] != 1:
        raise DatasetError(f"{where}: sets: exactly one set needs role 'validation' (it selects checkpoints), found {counts['validation']}")
    if counts["evaluation"] > 1:
        raise DatasetError(f"{where}: sets: at most one set may have role 'evaluation', found {counts['evaluation']}")
    soundbank = values.get("soundbank")
    if soundbank is not None and not isinstance(soundbank, str):
        raise DatasetError(f"{where}: soundbank: expected a folder path relative to the dataset root, got {soundbank!r}")
    return DatasetDescription(root, classes, sets, None if soundbank is None else root / soundbank, where)


def _class_list(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple)) or not values:
        raise DatasetError(f"{where}: expected a non-empty list of class names")
    names = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise DatasetError(f"{where}: {value!r} is not a class name (a non-empty string without surrounding spaces)")
        if value in names:
            raise DatasetError(f"{where}: duplicate class name {value!r}")
        names.append(value)
    return tuple(names)


def _set(root: Path, name: str, entry: Any, classes: tuple[str, ...], where: str) -> DatasetSet:
    if not isinstance(entry, Mapping):
        raise DatasetError(f"{where}: expected a mapping with role, audio and labels")
    unknown = sorted(set(entry) - _SET_KEYS)
    if unknown:
        raise DatasetError(f"{where}: unknown key(s) {unknown}; known: {sorted(_SET_KEYS)}")
    missing = [key for key in ("role", "audio", "labels") if key not in entry]
    if missing:
        raise DatasetError(f"{where}: missing key(s) {missing}")
    role = entry["role"]
    if role not in ROLES:
        raise DatasetError(f"{where}.role: {role!r} is not one of {list(ROLES)}")
    annotated = classes
    if entry.get("classes") is not None:
        declared = _class_list(entry["classes"], f"{where}.classes")
        outside = [c for c in declared if c not in classes]
        if outside:
            raise DatasetError(f"{where}.classes: {outside} not in the dataset's classes {list(classes)}")
        if role != "strong" and role != "weak" and set(declared) != set(classes):
            raise DatasetError(f"{where}.classes: a {role} set must annotate every class (partial annotation is for training sets)")
        annotated = tuple(c for c in classes if c in declared)
    durations = entry.get("durations")
    for key in ("audio", "labels", "durations"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise DatasetError(f"{where}.{key}: expected a path relative to the dataset root, got {value!r}")
    return DatasetSet(name, role, root / entry["audio"], root / entry["labels"], annotated, None if durations is None else root / durations)
