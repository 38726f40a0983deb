"""Confidence intervals by resampling clips, from the count changes computed once.

Each resample is a vector of clip weights (how often each clip is drawn);
the intersection counts of a resample are the same changes summed with
those weights (:meth:`~tbfl.evaluation.metrics.intersection_based.IntersectionChanges.accumulate`),
so a resample costs one weighted sum and one PSDS, not an evaluation.
"""

from __future__ import annotations

import numpy as np

from tbfl.evaluation.metrics.collar_based import CollarClipCounts
from tbfl.evaluation.metrics.fscore import FScoreSweep
from tbfl.evaluation.metrics.intersection_based import (
    IntersectionChanges, intersection_fscore, psds_at_thresholds, psds_threshold_free,
)
from tbfl.evaluation.settings import PsdsSettings


def resampled_clip_weights(n_clips: int, n_resamples: int, seed: int = 0) -> np.ndarray:
    """(n_resamples, n_clips) draw counts of the classic bootstrap: n_clips clips drawn with replacement."""
    rng = np.random.default_rng(seed)
    return np.stack([np.bincount(rng.integers(n_clips, size=n_clips), minlength=n_clips) for _ in range(n_resamples)])


def sed_scores_eval_clip_weights(n_clips: int, n_folds: int = 5, n_iterations: int = 20) -> np.ndarray:
    """(n_folds * n_iterations, n_clips) 0/1 weights of sed_scores_eval's ``bootstrap_from_deltas``.

    It shuffles the sorted clip ids in place with ``RandomState(i)`` for each
    iteration and leaves one of ``n_folds`` contiguous folds out each time.
    """
    order = list(range(n_clips))
    split = np.linspace(0, n_clips, n_folds + 1).astype(int)
    weights = []
    for i in range(n_iterations):
        np.random.RandomState(i).shuffle(order)
        for j in range(n_folds):
            w = np.zeros(n_clips, dtype=np.int64)
            w[order[: split[j]] + order[split[j + 1] :]] = 1
            weights.append(w)
    return np.array(weights)


def bootstrap_psds(
    changes: IntersectionChanges, duration_s: np.ndarray, clip_weights: np.ndarray, scenario: PsdsSettings,
    thresholds: np.ndarray | None = None,
) -> np.ndarray:
    """(n_resamples,) PSDS of each resample: threshold-free, or at ``thresholds`` (psds_eval's)."""
    options = dict(alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr)
    values = []
    for weights in clip_weights:
        curves = changes.accumulate(weights)
        total_s = float(np.dot(weights, duration_s))
        psds = psds_threshold_free(curves, total_s, **options) if thresholds is None else psds_at_thresholds(
            curves, thresholds, total_s, **options)
        values.append(psds.value)
    return np.array(values)


def bootstrap_intersection_f1(changes: IntersectionChanges, clip_weights: np.ndarray, threshold: float) -> np.ndarray:
    """(n_resamples,) intersection-based macro F1 at ``threshold`` of each resample."""
    return np.array([intersection_fscore(changes.accumulate(w), threshold).f1_macro for w in clip_weights])


def bootstrap_event_f1(
    counts: CollarClipCounts, clip_weights: np.ndarray, threshold: float, grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(n_resamples,) collar-based macro F1 of each resample at ``threshold``, and at its best single threshold
    of ``grid`` (picked again on every resample, as the point value picks it on the evaluated clips)."""
    at_threshold, best = [], []
    on_grid = np.isin(counts.thresholds, grid)
    for weights in clip_weights:
        sweep = counts.accumulate(weights)
        at_threshold.append(sweep.at(sweep.index_of(threshold)).f1_macro)
        best.append(FScoreSweep(sweep.classes, sweep.thresholds[on_grid], sweep.tp[on_grid], sweep.n_sys[on_grid], sweep.n_ref).best().f1_macro)
    return np.array(at_threshold), np.array(best)


def confidence_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the mean and the central ``confidence`` percentile interval of ``values``."""
    tail = (1 - confidence) / 2 * 100
    return float(np.mean(values)), float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
