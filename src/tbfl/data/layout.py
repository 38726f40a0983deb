"""The DESED 2021 folder layout as one object.

Every path is relative to the dataset root and defaults to the folder and file
names of the DCASE2021 Task 4 release, as its baseline recipe names them
(DESED_task ``recipes/dcase2021_task4_baseline/confs/sed.yaml``): 16 kHz audio
in ``*_16k`` folders, the original 44.1 kHz audio beside them without the
suffix. Override any entry by keyword or from a config mapping
(``DesedLayout.from_config``; in a recipe, ``data.layout``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

#: Suffix of the 16 kHz audio folders; the release's 44.1 kHz folder is the same name without it.
RESAMPLED_SUFFIX = "_16k"
#: The layout entries that are audio folders of clip sets.
AUDIO_ENTRIES = ("synth_train_audio", "weak_audio", "unlabeled_audio", "synth_val_audio", "validation_audio")


class LayoutError(FileNotFoundError):
    """A part of the dataset that is not where the layout says; the message names the path and the layout key."""


@dataclass(frozen=True)
class DesedLayout:
    """Where every DESED set lives under ``root``.

    Attributes are paths relative to ``root``; use :meth:`path` for absolute ones,
    :meth:`audio_dir` for a set's audio folder with the 44.1 kHz fallback.
    """

    root: Path
    synth_train_audio: str = "audio/train/synthetic21_train/soundscapes_16k"
    synth_train_tsv: str = "metadata/train/synthetic21_train/soundscapes.tsv"
    weak_audio: str = "audio/train/weak_16k"
    weak_tsv: str = "metadata/train/weak.tsv"
    unlabeled_audio: str = "audio/train/unlabel_in_domain_16k"
    unlabeled_tsv: str = "metadata/train/unlabel_in_domain.tsv"
    synth_val_audio: str = "audio/validation/synthetic21_validation/soundscapes_16k"
    synth_val_tsv: str = "metadata/validation/synthetic21_validation/soundscapes.tsv"
    synth_val_durations_tsv: str = "metadata/validation/synthetic21_validation/durations.tsv"
    validation_audio: str = "audio/validation/validation_16k"
    validation_tsv: str = "metadata/validation/validation.tsv"
    validation_durations_tsv: str = "metadata/validation/validation_durations.tsv"
    soundbank_foreground: str = "soundbank/audio/train/foreground"
    soundbank_background: str = "soundbank/audio/train/background"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def path(self, name: str) -> Path:
        """Absolute path of the attribute ``name`` (e.g. ``"weak_tsv"``)."""
        if name == "root" or name not in self.relative_paths():
            raise KeyError(f"unknown DESED layout entry {name!r}; known: {sorted(self.relative_paths())}")
        return self.root / getattr(self, name)

    def audio_dir(self, name: str) -> Path:
        """The audio folder of entry ``name``: the 16 kHz folder, else the release's 44.1 kHz one.

        When ``<folder>_16k`` is absent but ``<folder>`` exists (the release before
        resampling), the latter is used; features are resampled to 16 kHz when cached.
        Raises :class:`LayoutError` naming both paths and the key that overrides them.
        """
        if name not in AUDIO_ENTRIES:
            raise KeyError(f"{name!r} is not an audio folder entry; known: {list(AUDIO_ENTRIES)}")
        folder = self.path(name)
        if folder.is_dir():
            return folder
        original = self.original_audio_dir(name)
        if original is not None and original.is_dir():
            return original
        also = f" nor {original}" if original is not None else ""
        raise LayoutError(f"{folder}: audio folder not found{also} (layout entry {name!r}; {OVERRIDE_HINT.format(name=name)})")

    def original_audio_dir(self, name: str) -> Path | None:
        """The 44.1 kHz folder beside a ``*_16k`` audio folder (None when the entry has no such suffix)."""
        folder = self.path(name)
        if not folder.name.endswith(RESAMPLED_SUFFIX):
            return None
        return folder.with_name(folder.name[: -len(RESAMPLED_SUFFIX)])

    @classmethod
    def relative_paths(cls) -> dict[str, str]:
        """Default relative path of every entry, by name."""
        return {f.name: f.default for f in dataclasses.fields(cls) if f.name != "root"}

    @classmethod
    def from_config(cls, root: str | Path, overrides: Mapping[str, Any] | None = None) -> "DesedLayout":
        """Layout under ``root`` with entries replaced by ``overrides`` (unknown keys are an error)."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(cls.relative_paths()))
        if unknown:
            raise ValueError(f"unknown DESED layout keys {unknown}; known: {sorted(cls.relative_paths())}")
        return cls(root=Path(root), **{k: str(v) for k, v in overrides.items()})


#: How to move an entry (``name``), said in every error about a missing part of the layout.
OVERRIDE_HINT = "set data.layout.{name} in the recipe, or {name} in --layout-config, to the path relative to the dataset root"
