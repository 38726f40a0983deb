"""Label encoding at the model's frame rate (the rule of the baseline's ManyHotEncoder).

A time t (s) sits at frame t / frame_hop_s; an event covers the frames from
floor(onset / hop) to ceil(offset / hop) (exclusive), both clipped to
[0, n_frames]. A time within 1e-6 frame of a frame boundary counts as on it, so
decoding and re-encoding is exact (the baseline leaves those cases to float
rounding noise: with a 0.1 s hop, 0.3 / 0.1 is 2.9999999999999996). On the
default 64 ms grid no 3-decimal time is affected, so the rule equals the baseline's there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from tbfl.constants import DESED_CLASSES, FRAME_HOP_S, N_FRAMES
from tbfl.data.desed import STRONG_COLUMNS, StrongLabels

#: Distance (in frames) within which a time is snapped onto a frame boundary.
_BOUNDARY_TOLERANCE_FRAMES = 1e-6


@dataclass(frozen=True)
class FrameGrid:
    """The frame grid of a model's output over one clip: frame i covers [i * frame_hop_s, (i + 1) * frame_hop_s) s, 0 <= i < n_frames.

    Frame targets are encoded on it, r_c is counted on it and frame scores are written on it, so one
    grid serves a whole run. A training recipe derives it from its feature hop and its model's time
    pooling (:meth:`tbfl.features.FeatureConfig.frame_grid`); the DCASE2021 baseline's is 156 frames
    of 64 ms (``FRAME_HOP_S``, ``N_FRAMES``).
    """

    frame_hop_s: float
    n_frames: int

    def __post_init__(self) -> None:
        if not self.frame_hop_s > 0 or self.n_frames < 1:
            raise ValueError(f"a frame grid needs frame_hop_s > 0 and n_frames >= 1, got {self.frame_hop_s} and {self.n_frames}")


def time_to_frame(
    t_s: float | np.ndarray,
    frame_hop_s: float = FRAME_HOP_S,
    n_frames: int = N_FRAMES,
    *,
    rounding: Literal["floor", "ceil"],
) -> int | np.ndarray:
    """Frame index of time(s) ``t_s`` (s): floor (onsets) or ceil (offsets) of t / hop, clipped to [0, n_frames]."""
    if rounding not in ("floor", "ceil"):
        raise ValueError(f"rounding must be 'floor' or 'ceil', got {rounding!r}")
    position = np.asarray(t_s, dtype=np.float64) / frame_hop_s
    nearest = np.rint(position)
    position = np.where(np.abs(position - nearest) < _BOUNDARY_TOLERANCE_FRAMES, nearest, position)
    frames = np.clip(np.floor(position) if rounding == "floor" else np.ceil(position), 0, n_frames).astype(np.int64)
    return int(frames) if frames.ndim == 0 else frames


def encode_strong(
    events: pd.DataFrame,
    classes: Sequence[str] = DESED_CLASSES,
    *,
    n_frames: int = N_FRAMES,
    frame_hop_s: float = FRAME_HOP_S,
) -> np.ndarray:
    """Frame targets of one clip.

    Args:
        events: the clip's events, columns ``onset``, ``offset`` (s) and ``event_label``.
    Returns:
        (C, n_frames) float32 of 0/1, C = len(classes).
    """
    if "filename" in events.columns and events["filename"].nunique() > 1:
        raise ValueError(f"encode_strong takes the events of one clip, got {events['filename'].nunique()} clips")
    clip_index = np.zeros(len(events), dtype=np.int64)
    return _active_frames(events, clip_index, 1, classes, n_frames, frame_hop_s)[0].astype(np.float32)


def encode_strong_clips(
    labels: StrongLabels,
    classes: Sequence[str] = DESED_CLASSES,
    *,
    n_frames: int = N_FRAMES,
    frame_hop_s: float = FRAME_HOP_S,
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Frame targets of every clip of ``labels``, in ``labels.filenames`` order.

    Returns:
        (N, C, n_frames) 0/1 of ``dtype`` (``bool`` saves memory), equal to
        ``encode_strong`` of each clip, stacked.
    """
    clip_position = {name: i for i, name in enumerate(labels.filenames)}
    clip_index = labels.events["filename"].map(clip_position).to_numpy(dtype=np.int64)
    active = _active_frames(labels.events, clip_index, len(labels.filenames), classes, n_frames, frame_hop_s)
    return active if np.dtype(dtype) == np.bool_ else active.astype(dtype)


def decode_strong(
    frames: np.ndarray,
    classes: Sequence[str] = DESED_CLASSES,
    *,
    frame_hop_s: float = FRAME_HOP_S,
    filename: str | None = None,
) -> pd.DataFrame:
    """Events of a binary (C, n_frames) matrix: each run of 1s is one event.

    Returns:
        columns ``filename`` (the given one), ``onset`` = first frame * hop,
        ``offset`` = frame after the run * hop (s), ``event_label``; sorted by onset.
    """
    frames = np.asarray(frames)
    if frames.ndim != 2 or frames.shape[0] != len(classes):
        raise ValueError(f"frames must be (C={len(classes)}, n_frames), got shape {frames.shape}")
    if not np.isin(frames, (0, 1)).all():
        raise ValueError("frames must be binary (0/1 or bool); threshold scores first")
    padded = np.zeros((frames.shape[0], frames.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = frames.astype(bool)
    change = np.diff(padded, axis=1)
    class_of_run, start = np.nonzero(change == 1)
    _, stop = np.nonzero(change == -1)  # same row-major order: the k-th stop closes the k-th start
    events = pd.DataFrame(
        {
            "filename": pd.Series([filename] * start.size, dtype=object),
            "onset": start * frame_hop_s,
            "offset": stop * frame_hop_s,
            "event_label": np.asarray(classes, dtype=object)[class_of_run],
        },
        columns=list(STRONG_COLUMNS),
    )
    return events.sort_values(["onset", "event_label"], kind="stable").reset_index(drop=True)


def encode_weak(labels: Iterable[str] | str, classes: Sequence[str] = DESED_CLASSES) -> np.ndarray:
    """Clip tags as a (C,) float32 0/1 vector; a string is read as comma-separated labels."""
    if isinstance(labels, str):
        labels = [label for label in labels.split(",") if label]
    index = {name: i for i, name in enumerate(classes)}
    vector = np.zeros(len(classes), dtype=np.float32)
    for label in labels:
        if label not in index:
            raise ValueError(f"unknown label {label!r}; known: {list(classes)}")
        vector[index[label]] = 1.0
    return vector


def decode_weak(vector: np.ndarray, classes: Sequence[str] = DESED_CLASSES, threshold: float = 0.5) -> tuple[str, ...]:
    """Labels whose (C,) score is >= ``threshold``, in class order."""
    vector = np.asarray(vector)
    if vector.shape != (len(classes),):
        raise ValueError(f"vector must have shape ({len(classes)},), got {vector.shape}")
    return tuple(classes[i] for i in np.flatnonzero(vector >= threshold))


def _active_frames(
    events: pd.DataFrame, clip_index: np.ndarray, n_clips: int, classes: Sequence[str], n_frames: int, frame_hop_s: float
) -> np.ndarray:
    """(n_clips, C, n_frames) bool: +1 at each onset frame, -1 at each offset frame, cumulated, > 0."""
    class_index = pd.Categorical(events["event_label"], categories=list(classes)).codes.astype(np.int64)
    if (class_index < 0).any():
        unknown = sorted(set(events["event_label"]) - set(classes))
        raise ValueError(f"unknown event label(s) {unknown}; known: {list(classes)}")
    onset = time_to_frame(events["onset"].to_numpy(dtype=np.float64), frame_hop_s, n_frames, rounding="floor")
    offset = time_to_frame(events["offset"].to_numpy(dtype=np.float64), frame_hop_s, n_frames, rounding="ceil")
    if (offset < onset).any():
        raise ValueError("an event has its offset before its onset")
    delta = np.zeros((n_clips, len(classes), n_frames + 1), dtype=np.int16)
    np.add.at(delta, (clip_index, class_index, onset), 1)
    np.add.at(delta, (clip_index, class_index, offset), -1)
    return np.cumsum(delta[:, :, :n_frames], axis=2, dtype=np.int16) > 0
