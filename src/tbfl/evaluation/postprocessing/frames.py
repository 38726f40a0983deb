"""Post-processing of frame scores: median filter, thresholds, event tables.

Frame ``i`` of a (C, n_frames) score array covers ``[i * hop, (i + 1) * hop)``
seconds; a detection is a run of frames with score > threshold (strict, as
the DCASE baseline).

The two orders of median filter and threshold give the same detections: a
median is a rank filter, and rank filters commute with any non-decreasing
map, thresholding included (with the same edge mode). :func:`binarize` keeps
both orders so either recipe can be written as published (the DCASE 2021
code thresholded first); decoding and the metrics filter the scores once and
threshold afterwards.
"""

from __future__ import annotations

import math
from typing import Literal, Mapping

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter as _scipy_median_filter

from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals

Order = Literal["filter_then_threshold", "threshold_then_filter"]
EVENT_COLUMNS = ["filename", "onset", "offset", "event_label"]


def median_filter_frames(length_s: float, frame_hop_s: float) -> int:
    """Median filter length in frames: the odd number nearest to ``length_s / frame_hop_s`` (ties up), at least 1.

    0.45 s at 0.064 s per frame (7.03 frames) gives 7 frames (0.448 s), the
    DCASE 2021 baseline's filter. An odd length keeps the filter centred.
    """
    if length_s < 0 or frame_hop_s <= 0:
        raise ValueError(f"median filter length must be >= 0 s and the frame hop > 0 s, got {length_s} and {frame_hop_s}")
    return max(1, 2 * math.floor(length_s / frame_hop_s / 2) + 1)


def median_filter(scores: np.ndarray, n_frames: int) -> np.ndarray:
    """Median over ``n_frames`` frames along the last (time) axis; edges mirrored (scipy's ``reflect``).

    ``scores``: (..., n_time) array; returns an array of the same shape whose
    values are all taken from the input.
    """
    scores = np.asarray(scores)
    if n_frames <= 1:
        return scores.copy()
    size = (1,) * (scores.ndim - 1) + (n_frames,)
    return _scipy_median_filter(scores, size=size, mode="reflect")


def median_filter_clips(scores: Mapping[str, np.ndarray], n_frames: int) -> dict[str, np.ndarray]:
    """:func:`median_filter` of every clip's (C, n_time) scores, batched by length."""
    by_length: dict[int, list[str]] = {}
    for clip_id, clip_scores in scores.items():
        by_length.setdefault(np.shape(clip_scores)[-1], []).append(clip_id)
    filtered: dict[str, np.ndarray] = {}
    for clip_ids in by_length.values():
        stacked = median_filter(np.stack([np.asarray(scores[c], dtype=np.float64) for c in clip_ids]), n_frames)
        filtered.update(zip(clip_ids, stacked))
    return {clip_id: filtered[clip_id] for clip_id in scores}


def binarize(
    scores: np.ndarray, threshold: float | np.ndarray, *, filter_frames: int = 1, order: Order = "filter_then_threshold",
) -> np.ndarray:
    """(C, n_frames) activity: score > threshold (one value, or (C,) per class), median-filtered in ``order``."""
    scores = np.asarray(scores, dtype=np.float64)
    threshold = np.asarray(threshold, dtype=np.float64)
    if threshold.ndim == 1:
        threshold = threshold[:, None]
    if order == "filter_then_threshold":
        return median_filter(scores, filter_frames) > threshold
    if order == "threshold_then_filter":
        return median_filter(scores > threshold, filter_frames)
    raise ValueError(f"unknown order {order!r}; use 'filter_then_threshold' or 'threshold_then_filter'")


def decode_events(
    scores: Mapping[str, np.ndarray],
    threshold: float | np.ndarray,
    classes: tuple[str, ...],
    *,
    frame_hop_s: float,
    filter_frames: int = 1,
) -> pd.DataFrame:
    """Event table (filename = clip id + ``.wav``, onset, offset in s, event_label) of every clip.

    ``scores`` maps clip id -> (C, n_frames) scores in ``classes`` order;
    ``threshold`` is one value or (C,) per class; the scores are
    median-filtered over ``filter_frames`` first (either order gives the same events).
    Rows are sorted by clip (in ``scores`` order), class, onset.
    """
    if not scores:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    clip_ids = tuple(scores)
    grid = ScoreGrid.from_scores(median_filter_clips(scores, filter_frames), clip_ids, frame_hop_s)
    runs = detection_intervals(grid)
    per_class = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (len(classes),))[runs.label]
    runs = runs.subset((runs.death <= per_class) & (per_class < runs.birth))
    order = np.lexsort((runs.on_frame, runs.row))
    return pd.DataFrame({
        "filename": np.array([f"{c}.wav" for c in clip_ids], dtype=object)[runs.clip[order]],
        "onset": runs.onset_s[order],
        "offset": runs.offset_s[order],
        "event_label": np.asarray(classes, dtype=object)[runs.label[order]],
    }, columns=EVENT_COLUMNS)
