"""Sound event bounding boxes (SEBBs; Ebbers et al., "Sound event bounding boxes", Interspeech 2024).

A SEBB is one candidate event ``(onset_s, offset_s, class, confidence)``: its
extent is decided once, from the shape of the score curve, and a decision
threshold only keeps or drops whole boxes (confidence > threshold), so the
threshold no longer moves the onsets and offsets. This module turns frame
scores into change-detection SEBBs (the paper's cSEBBs). It is tbfl's own code
(MIT). Its rules were checked against the authors' reference implementation,
the ``sebbs`` package 1.0.2 (AGPL-3.0; a test-only dependency, never imported
here): on the same (median-filtered) scores and the same three
hyper-parameters, tbfl's boxes equal the reference's
(``tests/evaluation/test_sebb.py``, with the two exceptions at the end). For
one class's curve ``s`` of ``n`` frames and a step filter of ``2k`` frames:

1. Step filter, at every frame boundary ``b = 0 .. n`` (boundary ``b`` is the
   start of frame ``b``; ``n`` is the clip end): ``delta[b]`` is the mean
   score of frames ``[b, b + k)`` minus that of ``[b - k, b)``, frames outside
   the clip counting as score 0 (the clip is padded with zeros, so a curve
   that starts high rises from 0). This is the reference's time-continuous
   filter of length ``2k`` frame hops sampled where its extrema lie.
2. Candidate events: an onset candidate is a local maximum of ``delta``
   (boundary 0 or a boundary reached by a strict rise, if ``delta`` does not
   rise after it: the first boundary of a flat maximum), the offset
   candidate the next local minimum (the next boundary after which ``delta``
   rises: the last boundary of a flat minimum); the clip end closes a
   candidate still open. Maxima and minima alternate, so the candidates are the
   maximal runs of frames ``b`` across which ``delta`` does not rise
   (``delta[b + 1] <= delta[b]``), i.e. of frames with
   ``2 * s[b] >= s[b - k] + s[b + k]`` (0 outside the clip): tbfl decides
   each frame by this comparison. The runs between candidates are gaps (at
   least one frame each); there is no sign condition on ``delta``.
3. Merging: an inner gap (between candidates ``i`` and ``i + 1``) is removed,
   joining the two into one box, when for both candidates their maximum score
   ``p`` and the gap's minimum score ``g`` are close:
   ``(p + 0.001) / (g + 0.001) < merge_threshold_rel`` and
   ``p - g < merge_threshold_abs``. Every gap is decided at once, on the
   candidates as found in step 2 (no repetition); a chain of removed gaps
   joins a chain of candidates. A threshold of ``inf`` leaves only the other
   test (the reference's tuning grid pairs each value with ``inf``).
4. Confidence: the mean score over the box's frames (gaps joined in step 3
   included), as the reference. ``confidence="max"`` (the maximum score) is a
   tbfl option the reference does not have.

Remaining differences from ``sebbs`` 1.0.2, both deliberate:

- The reference divides a box's score sum by its duration plus 1e-6 s when
  the clip had two or more candidates of that class (a division guard of its
  merge step), by the duration alone otherwise; tbfl always takes the plain
  mean, larger by the factor ``1 + 1e-6 s / duration`` (at most 1.6e-5
  relative, for a one-frame box at a 64 ms hop; two boxes can only change
  order where their means differ by less than that). Frame curves carry no
  durations in seconds, and the guard is not part of the method. The test
  undoes the factor and then asks for agreement to 1e-9.
- Exact ties (``2 * s[b] == s[b - k] + s[b + k]``, e.g. in the middle of a
  run of ``2k + 1`` or more equal scores, which median filters make): tbfl
  decides them exactly (a tied frame is a candidate frame); the reference
  compares filter values it accumulates by running sums in seconds, whose
  rounding noise (about 1e-16) decides a tie either way, so a tied frame can
  flip between candidate and gap (a box edge moves by a frame, or a
  one-frame gap or candidate appears). With scores and frame hop exact in
  binary (multiples of 1/64, say) the reference has no noise and every box
  is equal, ties included. On simulated DESED-like scores (64 ms hop, median
  filter 1 or 7 frames, step filters of 6, 8, 10 frames, the reference's
  merge grid; 48 clips x 10 classes x 2 filters x 21 settings) 14 of 20,160
  curves differed, each only at tied frames; the other 176,556 boxes were
  equal.

Scope: the step filter counts frames (an even number, see
:func:`step_filter_frames`), so it equals the reference called with a filter
length of ``2k`` frame hops on a uniform frame grid; the reference with
another length (e.g. 0.32 s at a 64 ms hop, 5 hops) puts change points
inside frames, which frame curves cannot represent. On non-uniform frame
boundaries (``times_s``) tbfl still counts frames and averages per frame.

Boxes of one class never touch (a gap is at least one frame), so the
piecewise-constant curve of :func:`sebb_scores` (box frames carry the box's
confidence, all other frames 0) gives, at every threshold >= 0, exactly the
boxes whose confidence exceeds it: the frame-score metrics evaluate SEBBs
unchanged, and :func:`sebb_operating_points` gives the same detections as
event lists per operating point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from tbfl.evaluation.postprocessing.frames import median_filter

CONFIDENCES = ("mean", "max")
SEBB_COLUMNS = ["filename", "onset", "offset", "event_label", "confidence"]
#: Added to both scores of the relative merge test (as the reference does), so that a gap at 0 gives a finite ratio.
_RATIO_OFFSET = 1e-3


@dataclass(frozen=True)
class SebbParams:
    """cSEBB hyper-parameters of one class.

    ``step_filter_frames``: even, >= 2 (``k = step_filter_frames // 2`` frames each side);
    ``merge_threshold_abs`` (score units) and ``merge_threshold_rel`` (a ratio) of the gap test
    (a gap is removed when both differences are below them; ``inf`` switches a test off);
    ``confidence``: "mean" (the reference's) or "max" of the scores inside a box.
    """

    step_filter_frames: int
    merge_threshold_abs: float
    merge_threshold_rel: float
    confidence: str = "mean"

    def __post_init__(self) -> None:
        frames = self.step_filter_frames
        if not isinstance(frames, (int, np.integer)) or isinstance(frames, bool) or frames < 2 or frames % 2:
            raise ValueError(f"the step filter needs an even integer length >= 2 frames, got {frames!r}")
        if not (self.merge_threshold_abs >= 0 and self.merge_threshold_rel >= 0):  # NaN fails too
            raise ValueError(f"merge thresholds must be >= 0, got {self.merge_threshold_abs} and {self.merge_threshold_rel}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"unknown SEBB confidence {self.confidence!r}; one of {', '.join(CONFIDENCES)}")

    def to_dict(self) -> dict:
        """JSON-ready fields: a merge test that is off (``inf``) is ``None`` (strict JSON has no infinity)."""
        return {"step_filter_frames": self.step_filter_frames, "confidence": self.confidence,
                **{name: None if math.isinf(value) else value for name, value in
                   (("merge_threshold_abs", self.merge_threshold_abs), ("merge_threshold_rel", self.merge_threshold_rel))}}

    @classmethod
    def from_dict(cls, data: Mapping) -> "SebbParams":
        """Inverse of :meth:`to_dict`."""
        off = {name: math.inf for name in ("merge_threshold_abs", "merge_threshold_rel") if data.get(name, 0) is None}
        return cls(**{**data, **off})


def step_filter_frames(length_s: float, frame_hop_s: float) -> int:
    """Step filter length in frames: twice the number of frames nearest to ``length_s / 2`` (halves up); a length
    under one frame hop (which would round to no frame each side) is a ValueError."""
    if not (frame_hop_s > 0 and length_s >= frame_hop_s):
        raise ValueError(
            f"a step filter needs a length of at least one frame hop ({frame_hop_s:g} s: one frame each side), got {length_s:g} s"
        )
    return 2 * max(1, math.floor(length_s / frame_hop_s / 2 + 0.5))


def step_filter(curves: np.ndarray, n_frames: int) -> np.ndarray:
    """(..., n) curves -> (..., n + 1) step filter outputs at the frame boundaries 0 .. n (step 1).

    Output ``b`` is the mean of frames ``[b, b + k)`` minus the mean of
    frames ``[b - k, b)``, ``k = n_frames // 2``, frames outside the clip
    counting as 0 (every mean is over ``k`` frames).
    """
    curves = np.asarray(curves, dtype=np.float64)
    n, half = curves.shape[-1], n_frames // 2
    total = np.concatenate([np.zeros(curves.shape[:-1] + (1,)), np.cumsum(curves, axis=-1)], axis=-1)
    b = np.arange(n + 1)
    return (total[..., np.minimum(b + half, n)] - 2 * total[..., b] + total[..., np.maximum(b - half, 0)]) / half


def candidate_frames(curve: np.ndarray, n_frames: int) -> np.ndarray:
    """(n,) bool: the frames of candidate events (step 2), those across which the step filter does not rise.

    ``delta[b + 1] - delta[b] = (s[b + k] - 2 s[b] + s[b - k]) / k``, so frame
    ``b`` is a candidate frame when ``2 s[b] >= s[b - k] + s[b + k]`` (0 outside
    the clip), compared exactly.
    """
    s = np.asarray(curve, dtype=np.float64)
    half = n_frames // 2
    padded = np.concatenate([np.zeros(half), s, np.zeros(half)])
    return 2 * s >= padded[: len(s)] + padded[2 * half :]


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) of every maximal run of True in a 1-d bool array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def sebb_frames(curve: np.ndarray, params: SebbParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SEBBs of one class's (n,) score curve as frame ranges: ``(start, stop, confidence)``, each (B,).

    Box ``i`` covers frames ``[start[i], stop[i])``; boxes are sorted and never touch.
    """
    s = np.asarray(curve, dtype=np.float64)
    start, stop = _runs(candidate_frames(s, params.step_filter_frames))
    if len(start) > 1:
        start, stop = _merge(s, start, stop, params)
    if len(start) == 0:
        return start.astype(np.int64), stop.astype(np.int64), np.zeros(0)
    # Boxes and the spaces between them, alternating, tile [start[0], n): one reduceat gives every box's sum or max.
    ends = np.append(s, 0.0)
    bounds = np.stack([start, stop], axis=1).ravel()
    if params.confidence == "mean":
        confidence = np.add.reduceat(ends, bounds)[::2] / (stop - start)
    else:
        confidence = np.maximum.reduceat(ends, bounds)[::2]
    return start.astype(np.int64), stop.astype(np.int64), confidence


def _merge(s: np.ndarray, start: np.ndarray, stop: np.ndarray, params: SebbParams) -> tuple[np.ndarray, np.ndarray]:
    """Step 3: candidates ``[start[i], stop[i])`` joined across the inner gaps that fail both merge tests."""
    # Candidate i, then the space after it (gap i to candidate i + 1; after the last, the rest of the clip).
    ends, bounds = np.append(s, 0.0), np.stack([start, stop], axis=1).ravel()
    peak = np.maximum.reduceat(ends, bounds)[::2]
    floor = np.minimum.reduceat(ends, bounds)[1::2][:-1]
    high = np.maximum(peak[:-1], peak[1:]) + _RATIO_OFFSET  # the tests hold for both candidates iff for the higher
    low = floor + _RATIO_OFFSET
    join = (high / low < params.merge_threshold_rel) & (high - low < params.merge_threshold_abs)
    return start[np.concatenate([[True], ~join])], stop[np.concatenate([~join, [True]])]


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
