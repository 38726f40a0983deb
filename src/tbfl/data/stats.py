"""Dataset statistics of the paper's Table 1: V_c and source lengths of the soundbank, r_c and event durations of the strong set."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from tbfl.constants import DESED_CLASSES, FRAME_HOP_S, N_FRAMES
from tbfl.data.audio import audio_duration_s, audio_files
from tbfl.data.desed import StrongLabels, read_strong_tsv
from tbfl.data.labels import encode_strong_clips
from tbfl.data.layout import DesedLayout, LayoutError
from tbfl.data.present import present_strong_labels
from tbfl.data.soundbank import class_folders
from tbfl.data.table1 import ClassStatistics
from tbfl.io import atomic_write_text, read_yaml

@dataclass(frozen=True, eq=False)
class DatasetStats:
    """Per-class statistics, arrays of shape (C,) in the order of ``classes``.

    Attributes:
        volumes: V_c, number of foreground source files of the class (int).
        avg_source_length_s: mean duration of those files (s; NaN when none).
        frame_ratios: r_c, positive frames of the class / all positive frames of the strong set.
        avg_event_duration_s: mean offset - onset of the class's events (s; NaN when none).
        n_events: number of events of the class in the strong set (int).
        frame_rates: positive frames of the class / all frames of the strong set (the per-class positive
            prior of logit-adjusted BCE); NaN when read from a record written before it was measured.
    """

    classes: tuple[str, ...]
    volumes: np.ndarray
    avg_source_length_s: np.ndarray
    frame_ratios: np.ndarray
    avg_event_duration_s: np.ndarray
    n_events: np.ndarray
    frame_rates: np.ndarray | None = None

    _ARRAYS = ("volumes", "avg_source_length_s", "frame_ratios", "avg_event_duration_s", "n_events")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (NaN as None); readable by ``tbfl weights --stats``."""
        out: dict[str, Any] = {"classes": list(self.classes)}
        for name in self._ARRAYS:
            out[name] = [None if isinstance(v, float) and math.isnan(v) else v for v in getattr(self, name).tolist()]
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
        if data.get("frame_rates") is not None:
            arrays["frame_rates"] = np.array([np.nan if v is None else v for v in data["frame_rates"]], dtype=np.float64)
        for name, values in arrays.items():
            if values.shape != (len(classes),):
                raise ValueError(f"statistics: {name} has {values.size} values for {len(classes)} classes")
        return cls(classes=classes, **arrays)

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


def _positive_frames(strong: StrongLabels, classes: Sequence[str], *, n_frames: int, frame_hop_s: float) -> tuple[np.ndarray, int]:
    """(C,) positive frames per class over every clip of ``strong``, and the number of frames of the set."""
    active = encode_strong_clips(strong, classes, n_frames=n_frames, frame_hop_s=frame_hop_s, dtype=bool)
    positive = active.sum(axis=(0, 2), dtype=np.int64)
    if positive.sum() == 0:
        raise ValueError("the strong set has no positive frame: r_c is undefined")
    return positive, active.shape[0] * active.shape[2]


def measure_stats(
    layout: DesedLayout,
    classes: Sequence[str] = DESED_CLASSES,
    *,
    n_frames: int = N_FRAMES,
    frame_hop_s: float = FRAME_HOP_S,
) -> DatasetStats:
    """Table 1 of a dataset: the soundbank ``layout.path("soundbank_foreground")``
    and the strong training set ``layout.path("synth_train_tsv")``.

    When the set's audio folder exists, only the clips whose audio is present count
    (one warning gives the counts); a labels-only tree counts every listed clip."""
    soundbank, tsv = layout.path("soundbank_foreground"), layout.path("synth_train_tsv")
    if not layout.root.is_dir():
        raise FileNotFoundError(f"{layout.root}: dataset folder not found")
    missing = []
    if not soundbank.is_dir():
        missing.append(f"{soundbank} (soundbank foreground folder)")
    if not tsv.is_file():
        missing.append(f"{tsv} (strong training labels)")
    if missing:
        raise FileNotFoundError(f"not found: {'; '.join(missing)}")
    volumes, avg_source_length_s = soundbank_volumes(soundbank, classes)
    strong = _present_or_listed(layout, read_strong_tsv(tsv, classes))
    events = strong.events
    by_class = (events["offset"] - events["onset"]).groupby(events["event_label"])
    n_events = by_class.size().reindex(list(classes), fill_value=0).to_numpy(dtype=np.int64)
    avg_event_duration_s = by_class.mean().reindex(list(classes)).to_numpy(dtype=np.float64)
    positive, n_set_frames = _positive_frames(strong, classes, n_frames=n_frames, frame_hop_s=frame_hop_s)
    return DatasetStats(
        classes=tuple(classes),
        volumes=volumes,
        avg_source_length_s=avg_source_length_s,
        frame_ratios=positive / positive.sum(),
        avg_event_duration_s=avg_event_duration_s,
        n_events=n_events,
        frame_rates=positive / n_set_frames,
    )


def _present_or_listed(layout: DesedLayout, strong: StrongLabels) -> StrongLabels:
    """The strong training labels of the clips with audio; all of them when the tree has no such audio folder."""
    try:
        audio_dir = layout.audio_dir("synth_train_audio")
    except LayoutError:
        return strong
    return present_strong_labels("synth_train", strong, audio_dir)
