"""Dataset statistics of the paper's Table 1: V_c and source lengths of the soundbank, r_c and event durations of the strong set.

Without a soundbank, V_c is measured from the strong training labels: the number of distinct clips that hold
at least one event of the class (``label_volumes``). Why clips, not events: an event count depends on how an
annotator splits a sound (a dog barking for 8 s is one event in one file and twelve in another; DESED's real
Speech is cut at every pause), while a clip holding the class is one recording of it whatever the cut; on the
``small`` preset it also follows the soundbank's V_c more closely than the event count (docs/own-data.md has
the table). ``n_events`` stays reported beside it.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from tbfl.constants import DESED_CLASSES, FRAME_HOP_S, N_FRAMES
from tbfl.data.audio import audio_duration_s, audio_files
from tbfl.data.desed import StrongLabels, read_strong_tsv
from tbfl.data.labels import encode_strong_clips
from tbfl.data.dataset import DatasetDescription, DatasetError, DatasetSet, desed2021
from tbfl.data.layout import DesedLayout, LayoutError
from tbfl.data.present import present_strong_labels
from tbfl.data.soundbank import class_folders
from tbfl.data.table1 import ClassStatistics
from tbfl.io import atomic_write_text, read_yaml

@dataclass(frozen=True, eq=False)
class DatasetStats:
    """Per-class statistics, arrays of shape (C,) in the order of ``classes``.

    Attributes:
        volumes: V_c, the volume the weights use (int): the soundbank's foreground files of the class when the
            dataset has a soundbank (``volumes_from == "soundbank"``), else ``label_volumes``.
        avg_source_length_s: mean duration of those files (s; NaN when none).
        frame_ratios: r_c, positive frames of the class / all positive frames of the strong set.
        avg_event_duration_s: mean offset - onset of the class's events (s; NaN when none).
        n_events: number of events of the class in the strong set (int).
        label_volumes: distinct strong training clips holding an event of the class (int; V_c without a soundbank).
        volumes_from: ``"soundbank"`` or ``"labels"``.
        frame_rates: positive frames of the class / all frames of the strong set (the per-class positive
            prior of logit-adjusted BCE); NaN when read from a record written before it was measured.
    """

    classes: tuple[str, ...]
    volumes: np.ndarray
    avg_source_length_s: np.ndarray
    frame_ratios: np.ndarray
    avg_event_duration_s: np.ndarray
    n_events: np.ndarray
    label_volumes: np.ndarray | None = None
    volumes_from: str = "soundbank"
    frame_rates: np.ndarray | None = None

    _ARRAYS = ("volumes", "avg_source_length_s", "frame_ratios", "avg_event_duration_s", "n_events")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (NaN as None); readable by ``tbfl weights --stats``."""
        out: dict[str, Any] = {"classes": list(self.classes)}
        for name in self._ARRAYS:
            out[name] = [None if isinstance(v, float) and math.isnan(v) else v for v in getattr(self, name).tolist()]
        out["volumes_from"] = self.volumes_from
        if self.label_volumes is not None:
            out["label_volumes"] = self.label_volumes.tolist()
        if self.frame_rates is not None:
            out["frame_rates"] = self.frame_rates.tolist()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DatasetStats":
        """Inverse of :meth:`to_dict` (extra keys are ignored)."""
        missing = [key for key in ("classes", *cls._ARRAYS) if key not in data]
        if missing:
            raise ValueError(f"statistics lack key(s) {missing}")
        integer = {"volumes", "n_events"}
        arrays = {
            name: np.array([np.nan if v is None else v for v in data[name]], dtype=np.int64 if name in integer else np.float64)
            for name in cls._ARRAYS
        }
        classes = tuple(data["classes"])
        label_volumes = None if data.get("label_volumes") is None else np.array(data["label_volumes"], dtype=np.int64)
        if data.get("frame_rates") is not None:
            arrays["frame_rates"] = np.array([np.nan if v is None else v for v in data["frame_rates"]], dtype=np.float64)
        for name, values in {**arrays, "label_volumes": label_volumes}.items():
            if values is not None and values.shape != (len(classes),):
                raise ValueError(f"statistics: {name} has {values.size} values for {len(classes)} classes")
        return cls(classes=classes, **arrays, label_volumes=label_volumes, volumes_from=str(data.get("volumes_from", "soundbank")))

    def to_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON, atomically."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")


def read_class_statistics(path: str | Path) -> ClassStatistics:
    """V_c and r_c (and ``classes``, DESED's when absent) from a JSON or YAML file, e.g. ``tbfl stats --json``.

    The one reader of the statistics format (:meth:`DatasetStats.from_dict` parses the full record of
    ``tbfl stats``). Errors name the file and the missing key or the line.
    """
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        data = read_yaml(path, "statistics file")
    else:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: statistics file not found")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'volumes' and 'frame_ratios'")
    missing = [key for key in ("volumes", "frame_ratios") if key not in data]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}; found {sorted(data)}")
    volumes, ratios = list(data["volumes"]), list(data["frame_ratios"])
    classes = list(data.get("classes") or (DESED_CLASSES if len(volumes) == len(DESED_CLASSES) else []))
    if len(classes) != len(volumes) or len(ratios) != len(volumes):
        raise ValueError(f"{path}: {len(classes)} classes, {len(volumes)} volumes and {len(ratios)} frame ratios must have equal length")
    return ClassStatistics(tuple(classes), tuple(float(v) for v in volumes), tuple(float(r) for r in ratios))


def soundbank_volumes(foreground_dir: str | Path, classes: Sequence[str] = DESED_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Count and measure the foreground source files of each class.

    ``foreground_dir`` holds one folder per class; ``<class>_nOn`` / ``<class>_nOff`` / ``<class>_nOn_nOff``
    folders count for ``<class>`` (:mod:`tbfl.data.soundbank`). Audio files directly inside
    (:func:`tbfl.data.audio.audio_files`, hidden files skipped) are counted; their lengths come from the headers.
    Folders of unknown classes and empty (0-sample) files are ignored with a warning counting them.

    Returns:
        volumes (C,) int64, avg_source_length_s (C,) float64 (NaN for a class without files).
    """
    index = {name: i for i, name in enumerate(classes)}
    volumes = np.zeros(len(classes), dtype=np.int64)
    total_length_s = np.zeros(len(classes), dtype=np.float64)
    unknown, empty = [], []
    for class_name, folder in class_folders(foreground_dir):
        if class_name not in index:
            unknown.append(folder.name)
            continue
        for audio in audio_files(folder):
            length_s = audio_duration_s(audio)
            if length_s <= 0:
                empty.append(audio.name)
                continue
            volumes[index[class_name]] += 1
            total_length_s[index[class_name]] += length_s
    if unknown:
        warnings.warn(f"{foreground_dir}: ignored folder(s) of unknown classes {unknown}; known: {list(classes)}", UserWarning, stacklevel=2)
    if empty:
        warnings.warn(f"{foreground_dir}: {len(empty)} empty audio file(s) (0 samples) not counted in V_c, e.g. {empty[:3]}", UserWarning, stacklevel=2)
    with np.errstate(invalid="ignore"):
        return volumes, total_length_s / volumes


def frame_ratios(
    strong: StrongLabels,
    classes: Sequence[str] = DESED_CLASSES,
    *,
    n_frames: int = N_FRAMES,
    frame_hop_s: float = FRAME_HOP_S,
) -> np.ndarray:
    """r_c: positive frames of class c / positive frames of all classes, over every clip of ``strong``.

    Frames are those of :func:`tbfl.data.labels.encode_strong` (the model's frame rate).

    Returns:
        (C,) float64 summing to 1. ValueError when the set has no positive frame.
    """
    positive, _ = _positive_frames(strong, classes, n_frames=n_frames, frame_hop_s=frame_hop_s)
    return positive / positive.sum()


def _positive_frames(
    strong: StrongLabels, classes: Sequence[str], *, n_frames: int, frame_hop_s: float, allow_none: bool = False
) -> tuple[np.ndarray, int]:
    """(C,) positive frames per class over every clip of ``strong``, and the number of frames of the set
    (ValueError for a set without a positive frame unless ``allow_none``: one of several sets may have none)."""
    active = encode_strong_clips(strong, classes, n_frames=n_frames, frame_hop_s=frame_hop_s, dtype=bool)
    positive = active.sum(axis=(0, 2), dtype=np.int64)
    if positive.sum() == 0 and not allow_none:
        raise ValueError("the strong set has no positive frame: r_c is undefined")
    return positive, active.shape[0] * active.shape[2]


def measure_stats(
    dataset: DatasetDescription | DesedLayout,
    classes: Sequence[str] | None = None,
    *,
    n_frames: int = N_FRAMES,
    frame_hop_s: float = FRAME_HOP_S,
) -> DatasetStats:
    """Table 1 of a dataset: V_c from its soundbank (when the description names one) or from the strong training
    labels (:attr:`DatasetStats.label_volumes`), and r_c, event durations and counts of every strong training set.

    ``dataset``: a description, or a DESED 2021 layout (whose description names the soundbank); ``classes`` must
    equal the description's when given. When a set's audio folder exists, only the clips whose audio is present
    count (one warning gives the counts); a labels-only tree counts every listed clip.
    A class without any strong training event (r_c = 0) is a :class:`DatasetError` naming it and the label files when
    V_c comes from the labels (it would be 0 too); with a soundbank its V_c stands and
    :func:`tbfl.weights.time_balanced_weights` applies its documented r_c = 0 rule (exponent 1, with a warning).
    """
    dataset = desed2021(dataset) if isinstance(dataset, DesedLayout) else dataset
    if classes is not None and tuple(classes) != dataset.classes:
        raise ValueError(f"classes {list(classes)} differ from the dataset description's {list(dataset.classes)}")
    classes = dataset.classes
    if not dataset.root.is_dir():
        raise FileNotFoundError(f"{dataset.root}: dataset folder not found")
    strong_sets = dataset.by_role("strong")
    missing = [f"{s.labels} (strong training labels of set {s.name!r})" for s in strong_sets if not s.labels.is_file()]
    if dataset.soundbank is not None and not dataset.soundbank.is_dir():
        missing.insert(0, f"{dataset.soundbank} (soundbank foreground folder)")
    if missing:
        raise FileNotFoundError(f"not found: {'; '.join(missing)}")
    strong = [_present_or_listed(s, read_strong_tsv(s.labels, s.classes)) for s in strong_sets]
    events = pd.concat([labels.events for labels in strong], ignore_index=True)
    files = ", ".join(str(s.labels) for s in strong_sets)
    empty = [name for name in classes if not (events["event_label"] == name).any()]
    if empty and dataset.soundbank is None:
        raise DatasetError(
            f"{files}: no strong training event of class(es) {empty}: without a soundbank r_c = 0 and V_c = 0, so the class has "
            f"no frame target and no TBFL weight; label some of its events, or drop it from the description ({dataset.source})"
        )
    by_class = (events["offset"] - events["onset"]).groupby(events["event_label"])
    n_events = by_class.size().reindex(list(classes), fill_value=0).to_numpy(dtype=np.int64)
    avg_event_duration_s = by_class.mean().reindex(list(classes)).to_numpy(dtype=np.float64)
    label_volumes = events.groupby("event_label")["filename"].nunique().reindex(list(classes), fill_value=0).to_numpy(dtype=np.int64)
    counts = [_positive_frames(labels, classes, n_frames=n_frames, frame_hop_s=frame_hop_s, allow_none=True) for labels in strong]
    positive, n_set_frames = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if positive.sum() == 0:
        raise ValueError(f"{files}: the strong training sets have no positive frame: r_c is undefined")
    if dataset.soundbank is not None:
        volumes, avg_source_length_s = soundbank_volumes(dataset.soundbank, classes)
        volumes_from = "soundbank"
    else:
        volumes, avg_source_length_s, volumes_from = label_volumes, np.full(len(classes), np.nan), "labels"
    return DatasetStats(
        classes=tuple(classes),
        volumes=volumes,
        avg_source_length_s=avg_source_length_s,
        frame_ratios=positive / positive.sum(),
        avg_event_duration_s=avg_event_duration_s,
        n_events=n_events,
        label_volumes=label_volumes,
        volumes_from=volumes_from,
        frame_rates=positive / n_set_frames,
    )


def _present_or_listed(clip_set: DatasetSet, strong: StrongLabels) -> StrongLabels:
    """The strong labels of a set's clips with audio; all of them when the tree has no such audio folder."""
    try:
        audio_dir = clip_set.audio_dir()
    except LayoutError:
        return strong
    return present_strong_labels(clip_set.name, strong, audio_dir)
