"""Sound event bounding boxes (SEBBs; Ebbers et al., "Sound event bounding boxes", Interspeech 2024).

A SEBB is one candidate event ``(onset_s, offset_s, class, confidence)``: its
extent is decided once, from the shape of the score curve, and a decision
threshold only keeps or drops whole boxes (confidence > threshold), so the
threshold no longer moves the onsets and offsets. This module turns frame
scores into change-detection SEBBs (the paper's cSEBBs). It is tbfl's own
implementation (MIT, like tbfl; the ``sebbs`` package is AGPL-3.0 and is
neither used nor copied), following the paper's outline (a step filter finds
change points, the segments between them become boxes, merge thresholds
join segments, a box-level threshold decides) and the three hyper-parameters
the ``sebbs`` documentation tunes (step filter length, absolute and relative
merge threshold). Where that outline leaves details open, the rules below
are tbfl's choices (the significance test of step 3, the gap rule of step 4,
the maximum as confidence). For one class's curve ``s`` of ``n`` frames
(already median-filtered, if wanted):

1. Step filter of ``2k`` frames: at boundary ``b`` (between frames ``b - 1``
   and ``b``, ``1 <= b < n``), ``delta[b] = mean(s[b:b+k]) - mean(s[b-k:b])``,
   windows cut at the clip edges. A clean step of height ``h`` gives a
   triangle of height ``h`` peaking exactly at the step.
2. Change points: every local maximum of ``delta`` above 0 and every local
   minimum below 0. A flat extremum (a plateau of ``delta``, e.g. for an
   event shorter than ``k`` frames) takes the boundary inside it with the
   largest one-frame step of ``s`` (the first on ties).
3. Merging: the change points cut the curve into segments, each with its
   level (mean score). A change point is significant when the levels on its
   two sides differ by at least ``merge_threshold_abs`` and the higher is at
   least ``merge_threshold_rel`` times the lower. The least significant
   failing change point (smallest level difference, leftmost on ties) is
   removed, joining its two segments, until every remaining one passes.
4. Boxes: a remaining change point is a rise or a fall by its levels. A
   segment from a fall (or the clip start) to a rise (or the clip end) is a
   gap; every other segment lies inside an event, and consecutive such
   segments form one box (a staircase up and down is one event). A curve
   without change points is one box.
5. Confidence: the maximum (default) or the mean of ``s`` inside the box.

Boxes of one class never touch (a gap is at least one frame), so the
piecewise-constant curve of :func:`sebb_scores` (box frames carry the box's
confidence, all other frames 0) gives, at every threshold >= 0, exactly the
boxes whose confidence exceeds it: the frame-score metrics evaluate SEBBs
unchanged, and :func:`sebb_operating_points` gives the same detections as
event lists per operating point.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from tbfl.evaluation.postprocess import median_filter

CONFIDENCES = ("max", "mean")
SEBB_COLUMNS = ["filename", "onset", "offset", "event_label", "confidence"]
#: Values are rounded to this many decimals before they are compared (float noise of sums and differences).
_DECIMALS = 12


@dataclass(frozen=True)
class SebbParams:
    """cSEBB hyper-parameters of one class.

    ``step_filter_frames``: even, >= 2 (``k = step_filter_frames // 2`` frames each side);
    ``merge_threshold_abs`` (score units) and ``merge_threshold_rel`` (a ratio) of the gap test;
    ``confidence``: "max" or "mean" of the scores inside a box.
    """

    step_filter_frames: int
    merge_threshold_abs: float
    merge_threshold_rel: float
    confidence: str = "max"

    def __post_init__(self) -> None:
        if self.step_filter_frames < 2 or self.step_filter_frames % 2:
            raise ValueError(f"the step filter needs an even length >= 2 frames, got {self.step_filter_frames}")
        if self.merge_threshold_abs < 0 or self.merge_threshold_rel < 0:
            raise ValueError(f"merge thresholds must be >= 0, got {self.merge_threshold_abs} and {self.merge_threshold_rel}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"unknown SEBB confidence {self.confidence!r}; one of {', '.join(CONFIDENCES)}")


def step_filter_frames(length_s: float, frame_hop_s: float) -> int:
    """Step filter length in frames: twice the number of frames nearest to ``length_s / 2`` (halves up), at least 2."""
    if length_s < 0 or frame_hop_s <= 0:
        raise ValueError(f"step filter length must be >= 0 s and the frame hop > 0 s, got {length_s} and {frame_hop_s}")
    return 2 * max(1, math.floor(length_s / frame_hop_s / 2 + 0.5))


def step_filter(curves: np.ndarray, n_frames: int) -> np.ndarray:
    """(..., n) curves -> (..., n - 1) step filter outputs at the inner frame boundaries 1 .. n - 1.

    Output ``b - 1`` is the mean of frames ``[b, b + k)`` minus the mean of
    frames ``[b - k, b)``, ``k = n_frames // 2``, windows cut at the edges.
    """
    curves = np.asarray(curves, dtype=np.float64)
    n, half = curves.shape[-1], n_frames // 2
    total = np.concatenate([np.zeros(curves.shape[:-1] + (1,)), np.cumsum(curves, axis=-1)], axis=-1)
    b = np.arange(1, n)
    stop, start = np.minimum(b + half, n), np.maximum(b - half, 0)
    right = (total[..., stop] - total[..., b]) / (stop - b)
    left = (total[..., b] - total[..., start]) / (b - start)
    return right - left


def _extrema(delta: np.ndarray, jumps: np.ndarray) -> np.ndarray:
    """Boundaries (1 .. n - 1) of the local maxima of ``delta`` above 0; a plateau takes its largest ``jumps``."""
    if len(delta) == 0:
        return np.zeros(0, dtype=np.int64)
    run_start = np.concatenate([[0], np.flatnonzero(np.diff(delta) != 0) + 1])
    run_stop = np.append(run_start[1:], len(delta))
    value = delta[run_start]
    before = np.concatenate([[-np.inf], value[:-1]])
    after = np.concatenate([value[1:], [-np.inf]])
    peaks = np.flatnonzero((value > 0) & (value > before) & (value > after))
    boundary = run_start[peaks] + 1
    for i in np.flatnonzero(run_stop[peaks] - run_start[peaks] > 1):  # flat peaks: the largest one-frame jump
        boundary[i] += int(np.argmax(jumps[run_start[peaks[i]] : run_stop[peaks[i]]]))
    return boundary.astype(np.int64)


def sebb_frames(curve: np.ndarray, params: SebbParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SEBBs of one class's (n,) score curve as frame ranges: ``(start, stop, confidence)``, each (B,).

    Box ``i`` covers frames ``[start[i], stop[i])``; boxes are sorted and never touch.
    """
    s = np.asarray(curve, dtype=np.float64)
    n = len(s)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    delta = np.round(step_filter(s, params.step_filter_frames), _DECIMALS)
    jumps = np.diff(s)
    points = np.sort(np.concatenate([_extrema(delta, jumps), _extrema(-delta, -jumps)]))
    points, is_rise = _significant(s, points, params)
    # Segment j spans [bounds[j], bounds[j + 1]); it is a gap when it starts at a fall (or the clip start)
    # and ends at a rise (or the clip end); without change points the whole curve is one box.
    bounds = np.concatenate([[0], points, [n]])
    starts_low = np.concatenate([[True], ~is_rise])
    ends_low = np.concatenate([is_rise, [True]])
    in_event = ~(starts_low & ends_low) if len(points) else np.array([True])
    edges = np.diff(np.concatenate([[False], in_event, [False]]).astype(np.int8))
    start, stop = bounds[np.flatnonzero(edges == 1)], bounds[np.flatnonzero(edges == -1)]
    summary = np.max if params.confidence == "max" else np.mean
    confidence = np.array([summary(s[a:b]) for a, b in zip(start, stop)])
    return start.astype(np.int64), stop.astype(np.int64), confidence


def _significant(s: np.ndarray, points: np.ndarray, params: SebbParams) -> tuple[np.ndarray, np.ndarray]:
    """The change points left after removing the failing ones (step 3), and whether each is a rise.

    Removing a point changes the level differences of its two neighbours only;
    a heap of (difference, point) entries, each stamped with its point's
    version, keeps the least significant failing point on top.
    """
    bounds = np.concatenate([[0], points, [len(s)]])
    total = [float(v) for v in np.add.reduceat(s, bounds[:-1])] if len(s) else []
    count = [int(v) for v in np.diff(bounds)]
    n_points = len(points)
    # point i separates segment i (left) and segment i + 1 (right); segments are joined leftwards.
    left, right = list(range(n_points)), list(range(1, n_points + 1))
    previous, following = list(range(-1, n_points - 1)), list(range(1, n_points)) + [-1]
    version, removed = [0] * n_points, [False] * n_points

    def failing(i: int) -> float | None:
        """Point i's level difference if it fails the test, else None."""
        a, b = total[left[i]] / count[left[i]], total[right[i]] / count[right[i]]
        low, high = min(a, b), max(a, b)
        difference = round(high - low, _DECIMALS)
        ratio = round(high / low, _DECIMALS) if low > 0 else (math.inf if high > 0 else 1.0)
        return difference if difference < params.merge_threshold_abs or ratio < params.merge_threshold_rel else None

    heap = [(d, i, 0) for i in range(n_points) if (d := failing(i)) is not None]
    heapq.heapify(heap)
    while heap:
        _, i, stamp = heapq.heappop(heap)
        if removed[i] or stamp != version[i]:
            continue
        joined, gone = left[i], right[i]  # the right segment joins the left one
        total[joined] += total[gone]
        count[joined] += count[gone]
        removed[i] = True
        before, after = previous[i], following[i]
        if after >= 0:
            left[after], previous[after] = joined, before
        if before >= 0:
            following[before] = after
        for j in (before, after):
            if j >= 0:
                version[j] += 1
                if (d := failing(j)) is not None:
                    heapq.heappush(heap, (d, j, version[j]))
    kept = [i for i in range(n_points) if not removed[i]]
    is_rise = np.array([total[right[i]] / count[right[i]] > total[left[i]] / count[left[i]] for i in kept], dtype=bool)
    return points[kept].astype(np.int64), is_rise


def clip_sebbs(
    scores: np.ndarray, times_s: np.ndarray, classes: tuple[str, ...], params: Iterable[SebbParams],
    median_filter_frames: Iterable[int] | None = None,
) -> list[tuple[float, float, str, float]]:
    """SEBBs of one clip: ``(onset_s, offset_s, class, confidence)`` sorted by class (in ``classes`` order), onset.

    ``scores``: (C, n_frames) in ``classes`` order; ``times_s``: (n_frames + 1,)
    frame boundaries in seconds; ``params``: one :class:`SebbParams` per class;
    ``median_filter_frames``: per class, a median filter applied first (default none).
    """
    scores = np.asarray(scores, dtype=np.float64)
    times_s = np.asarray(times_s, dtype=np.float64)
    if times_s.shape != (scores.shape[1] + 1,):
        raise ValueError(f"{scores.shape[1]} frames need {scores.shape[1] + 1} boundaries, got {times_s.shape}")
    params = tuple(params)
    filters = (1,) * len(classes) if median_filter_frames is None else tuple(median_filter_frames)
    boxes = []
    for c, name in enumerate(classes):
        start, stop, confidence = sebb_frames(median_filter(scores[c], filters[c]), params[c])
        boxes += [(float(times_s[a]), float(times_s[b]), name, float(y)) for a, b, y in zip(start, stop, confidence)]
    return boxes


def sebb_curve(curve: np.ndarray, params: SebbParams) -> np.ndarray:
    """One class's (n,) piecewise-constant SEBB curve: box frames carry the box's confidence, other frames 0."""
    out = np.zeros(len(curve))
    for a, b, y in zip(*sebb_frames(curve, params)):
        out[a:b] = y
    return out


def sebb_scores(
    scores: Mapping[str, np.ndarray], params: Iterable[SebbParams], median_filter_frames: Iterable[int] | None = None,
) -> dict[str, np.ndarray]:
    """Each clip's (C, n_frames) scores replaced by its piecewise-constant SEBB curves (class c with ``params[c]``).

    ``median_filter_frames``: per class, a median filter applied first (default none).
    Thresholding the result at any t >= 0 gives exactly the SEBBs with confidence > t.
    """
    params = tuple(params)
    out = {}
    for clip, values in scores.items():
        values = np.asarray(values, dtype=np.float64)
        filters = (1,) * len(values) if median_filter_frames is None else tuple(median_filter_frames)
        out[clip] = np.stack([sebb_curve(median_filter(row, n), p) for row, n, p in zip(values, filters, params)])
    return out


def sebb_table(
    scores: Mapping[str, np.ndarray], classes: tuple[str, ...], params: Iterable[SebbParams], *,
    frame_hop_s: float | None = None, times_s: Mapping[str, np.ndarray] | None = None,
    median_filter_frames: Iterable[int] | None = None,
) -> pd.DataFrame:
    """SEBBs of every clip as a table: filename (clip id + ``.wav``), onset, offset (s), event_label, confidence.

    Frame boundaries are ``times_s[clip]`` when given, else ``i * frame_hop_s``.
    """
    params, rows = tuple(params), []
    for clip, values in scores.items():
        n_frames = np.shape(values)[1]
        clip_times = np.arange(n_frames + 1) * frame_hop_s if times_s is None else times_s[clip]
        rows += [(f"{clip}.wav", *box) for box in clip_sebbs(values, clip_times, classes, params, median_filter_frames)]
    return pd.DataFrame(rows, columns=SEBB_COLUMNS)


def sebb_operating_points(sebbs: pd.DataFrame, thresholds: Iterable[float]) -> dict[float, pd.DataFrame]:
    """threshold -> the SEBBs with confidence > threshold (filename, onset, offset, event_label): psds_eval's input."""
    columns = ["filename", "onset", "offset", "event_label"]
    return {float(t): sebbs.loc[sebbs["confidence"] > t, columns].reset_index(drop=True) for t in sorted(set(thresholds))}
