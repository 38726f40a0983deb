"""Binary items: a score and a label per (item, class), the base of segment- and clip-based metrics.

An item is a segment of a clip (segment-based) or a whole clip (clip-based,
tagging). Per class, it is positive when a reference event of the class
touches it, and detected at threshold t when its score (its frames' maximum)
is above t. TP, FP and the item counts then give F1
(:class:`~.fscore.FScore`), error rates (:class:`~.error_rate.ErrorRate`) and
AUROC (:mod:`.auroc`), at one threshold or over all of them; clip weights
(how often each clip is drawn) give the same values on a bootstrap resample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from tbfl.evaluation.metrics.auroc import Auroc, staircase_auroc
from tbfl.evaluation.metrics.error_rate import ErrorRate
from tbfl.evaluation.metrics.fscore import FScore


@dataclass(frozen=True)
class ItemStatistics:
    """``scores`` (n_items, C) float64 and ``positive`` (n_items, C) bool of every item; ``clip`` (n_items,) its clip."""

    classes: tuple[str, ...]
    scores: np.ndarray
    positive: np.ndarray
    clip: np.ndarray
    n_clips: int

    def clip_counts(self, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TP, outputs and positives of each clip and class at ``threshold`` (score > threshold): three (n_clips, C) int arrays."""
        detected = self.scores > threshold
        return tuple(self._per_clip(values) for values in (detected & self.positive, detected, self.positive))

    def counts(self, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TP, outputs and positives (C,) at ``threshold``."""
        detected = self.scores > threshold
        return (detected & self.positive).sum(axis=0), detected.sum(axis=0), self.positive.sum(axis=0)

    def fscore(self, threshold: float) -> FScore:
        return FScore.from_counts(self.classes, threshold, *self.counts(threshold))

    def error_rate(self, threshold: float) -> ErrorRate:
        return ErrorRate.from_counts(self.classes, threshold, *self.counts(threshold))

    def auroc(self, max_fpr: float | None = None, clip_weights: np.ndarray | None = None) -> Auroc | list[Auroc]:
        """AUROC of every class (partial up to ``max_fpr``); with ``clip_weights`` (R, n_clips), one per resample."""
        weights = np.ones((1, self.n_clips)) if clip_weights is None else np.asarray(clip_weights, dtype=np.float64)
        weights_t = np.ascontiguousarray(weights.T)
        per_class = np.column_stack([_class_auroc(self.scores[:, c], self.positive[:, c], self.clip, weights_t, max_fpr)
                                     for c in range(len(self.classes))]) if len(self.classes) else np.zeros((len(weights), 0))
        aurocs = [Auroc.from_values(self.classes, max_fpr, values) for values in per_class]
        return aurocs[0] if clip_weights is None else aurocs

    def _per_clip(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_clips, values.shape[1]), dtype=np.int64)
        np.add.at(out, self.clip, values.astype(np.int64))
        return out


@dataclass(frozen=True)
class ItemMetrics:
    """F1 and error rate at one threshold, and the AUROC, of one family of items."""

    fscore: FScore
    error_rate: ErrorRate
    auroc: Auroc

    def to_dict(self) -> dict:
        return {"f1": self.fscore.to_dict(), "error_rate": self.error_rate.to_dict(), "auroc": self.auroc.to_dict()}


#: Distinct scores whose (score, resample) counts are summed at once by :func:`_class_auroc`.
_POINTS_PER_CHUNK = 1 << 13


def _class_auroc(score, positive, clip, weights_t, max_fpr):
    """(R,) AUROC of one class's items, each counted ``weights_t[clip, r]`` times on resample r.

    One point per distinct score (the statistics change after its last item), summed by clip in sparse products a
    chunk of points at a time, from the highest score down until every resample's FPR has reached ``max_fpr``.
    """
    order = np.argsort(-score, kind="stable")
    score, positive, clip = score[order], positive[order], clip[order]
    point = np.cumsum(np.append(True, score[1:] != score[:-1])) - 1 if len(score) else np.zeros(0, np.int64)
    n_points, (n_clips, n_resamples) = (int(point[-1]) + 1 if len(point) else 0), weights_t.shape
    totals, per_point = [], []
    for kind in (positive, ~positive):
        totals.append(np.bincount(clip[kind], minlength=n_clips) @ weights_t)
        per_point.append(sparse.csr_matrix((np.ones(kind.sum()), (point[kind], clip[kind])), shape=(n_points, n_clips)))
    end = 1.0 if max_fpr is None else max_fpr
    tp, fp, carry = [np.zeros((0, n_resamples))], [np.zeros((0, n_resamples))], np.zeros((2, n_resamples))
    for start in range(0, n_points, _POINTS_PER_CHUNK):
        for counts, matrix, k in ((tp, per_point[0], 0), (fp, per_point[1], 1)):
            counts.append(np.cumsum(matrix[start : start + _POINTS_PER_CHUNK] @ weights_t, axis=0) + carry[k])
            carry[k] = counts[-1][-1]
        if np.all(np.where(totals[1] > 0, carry[1] / np.where(totals[1] > 0, totals[1], 1) >= end, True)):
            break
    return staircase_auroc(np.vstack(tp), np.vstack(fp), *totals, max_fpr)
