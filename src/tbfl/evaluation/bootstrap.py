"""Confidence intervals by resampling clips, from the count changes computed once.

Each resample is a vector of clip weights (how often each clip is drawn);
the intersection counts of a resample are the same changes summed with
those weights (:meth:`~tbfl.evaluation.metrics.intersection_based.IntersectionChanges.accumulate_resamples`),
so a resample costs one weighted sum and one PSDS, not an evaluation. Counts
that add over clips (collar-based TP and outputs, intersection TP and FP at one
threshold) are kept per clip and summed for all resamples at once
(:func:`resampled_counts`). Every piece works on a block of classes as well as
on all of them: :func:`~tbfl.evaluation.blocks.evaluate_blocks` gathers them block by block.
"""

from __future__ import annotations

import numpy as np

from tbfl.evaluation.metrics.collar_based import CollarClipCounts
from tbfl.evaluation.metrics.fscore import FScore, FScoreSweep
from tbfl.evaluation.metrics.intersection_based import IntersectionChanges, psds_from_rocs, resampled_class_rocs
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


def resampled_counts(clip_counts: np.ndarray, clip_weights: np.ndarray) -> np.ndarray:
    """(n_resamples, ...) integer counts of each resample from (n_clips, ...) counts per clip: ``clip_weights @ clip_counts``.

    Computed in float64 (one matrix product), exact while the sums stay below 2**53.
    """
    clip_counts = np.asarray(clip_counts)
    flat = clip_counts.reshape(len(clip_counts), -1).astype(np.float64)
    summed = np.asarray(clip_weights, dtype=np.float64) @ flat
    return np.rint(summed).astype(np.int64).reshape(len(clip_weights), *clip_counts.shape[1:])


def resampled_reference(event_cell: np.ndarray, event_length_s: np.ndarray, n_classes: int,
                        clip_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each resample's reference event counts (R, C) int and summed event lengths (R, C) in seconds, from each
    reference event's cell ``clip * n_classes + class`` and length."""
    n_cells = np.shape(clip_weights)[1] * n_classes
    per_clip_count = np.bincount(event_cell, minlength=n_cells).reshape(-1, n_classes)
    per_clip_length_s = np.bincount(event_cell, weights=event_length_s, minlength=n_cells).reshape(-1, n_classes)
    return resampled_counts(per_clip_count, clip_weights), np.asarray(clip_weights, dtype=np.float64) @ per_clip_length_s


def resampled_rocs(
    changes: IntersectionChanges, duration_s: np.ndarray, clip_weights: np.ndarray, scenario: PsdsSettings,
    point_sets: tuple[np.ndarray | None, ...] = (None,), classes: np.ndarray | None = None,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[list[list[list]], np.ndarray]:
    """Each resample's class ROCs (:func:`class_rocs`) of ``classes`` (indices, default all), for each point set
    (thresholds, or None: threshold-free). Returns ``rocs[point set][resample]`` and ``n_ref`` (n_resamples, n_classes).

    ``reference``: :func:`resampled_reference` of these weights, if the caller has it (it is the same for every
    class block). The ROCs of one resample can be gathered class block by class block and combined by
    :func:`psds_of_resamples`.
    """
    options = dict(alpha_ct=scenario.alpha_ct, max_efpr=scenario.max_efpr)
    n_classes = len(changes.classes)
    if reference is None:
        reference = resampled_reference(changes.ref_clip * n_classes + changes.ref_label, changes.ref_length_s, n_classes, clip_weights)
    n_ref, ref_length_s = reference
    total_s = np.asarray(clip_weights, dtype=np.float64) @ duration_s
    curves = changes.accumulate_resamples(clip_weights, n_ref, ref_length_s, classes)
    # rocs[point set][resample]: the classes' ROCs in order (each class computed for all resamples at once).
    rocs = [[list(per_class) for per_class in zip(*(resampled_class_rocs(curve, total_s, thresholds=thresholds, **options)
                                                   for curve in curves))] for thresholds in point_sets]
    which = np.arange(n_classes) if classes is None else np.asarray(classes)
    return rocs, n_ref[:, which]


def psds_of_resamples(classes: tuple[str, ...], rocs: list[list], n_ref: np.ndarray, scenario: PsdsSettings) -> np.ndarray:
    """(n_resamples,) PSDS of each resample from its class ROCs (all classes) and its (n_classes,) ``n_ref``."""
    return np.array([
        psds_from_rocs(classes, resample_rocs, resample_n_ref, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr).value
        for resample_rocs, resample_n_ref in zip(rocs, n_ref)
    ])


def bootstrap_psds(
    changes: IntersectionChanges, duration_s: np.ndarray, clip_weights: np.ndarray, scenario: PsdsSettings,
    thresholds: np.ndarray | None = None,
) -> np.ndarray:
    """(n_resamples,) PSDS of each resample: threshold-free, or at ``thresholds`` (psds_eval's)."""
    (rocs,), n_ref = resampled_rocs(changes, duration_s, clip_weights, scenario, (thresholds,))
    return psds_of_resamples(changes.classes, rocs, n_ref, scenario)


def intersection_f1_of_resamples(
    classes: tuple[str, ...], threshold: float, tp: np.ndarray, fp: np.ndarray, n_ref: np.ndarray,
) -> np.ndarray:
    """(n_resamples,) intersection-based macro F1 from each resample's (n_classes,) TP, FP and reference counts."""
    return np.array([FScore.from_counts(classes, threshold, *counts).f1_macro for counts in zip(tp, tp + fp, n_ref)])


def bootstrap_event_f1(
    counts: CollarClipCounts, clip_weights: np.ndarray, threshold: float, grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(n_resamples,) collar-based macro F1 of each resample at ``threshold``, and at its best single threshold
    of ``grid`` (picked again on every resample, as the point value picks it on the evaluated clips)."""
    return event_f1_of_resamples(
        counts.classes, counts.thresholds, *(resampled_counts(c, clip_weights) for c in (counts.tp, counts.n_sys, counts.n_ref)),
        threshold, grid,
    )


def event_f1_of_resamples(
    classes: tuple[str, ...], thresholds: np.ndarray, tp: np.ndarray, n_sys: np.ndarray, n_ref: np.ndarray,
    threshold: float, grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bootstrap_event_f1` from each resample's counts: ``tp``, ``n_sys`` (n_resamples, K, C), ``n_ref`` (n_resamples, C)."""
    at_threshold, best = [], []
    on_grid = np.isin(thresholds, grid)
    for resample in zip(tp, n_sys, n_ref):
        sweep = FScoreSweep(classes, thresholds, *resample)
        at_threshold.append(sweep.at(sweep.index_of(threshold)).f1_macro)
        best.append(FScoreSweep(classes, thresholds[on_grid], sweep.tp[on_grid], sweep.n_sys[on_grid], sweep.n_ref).best().f1_macro)
    return np.array(at_threshold), np.array(best)


def confidence_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the mean and the central ``confidence`` percentile interval of ``values``."""
    tail = (1 - confidence) / 2 * 100
    return float(np.mean(values)), float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
