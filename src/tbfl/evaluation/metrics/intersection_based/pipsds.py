"""Post-processing independent PSDS (Ebbers et al., arXiv 2306.15440; sed_scores_eval's ``pipsds``).

PSDS depends on the post-processing (a median filter, its length): each
choice gives each class its own ROC. The post-processing independent PSDS
merges, per class, the ROCs of a set of post-processings into one: at each
eFPR the best TPR that *any* of them reaches there (the upper envelope of
the staircases), and computes PSDS from those merged class ROCs as usual
(mean - alpha_st * std over classes, area up to ``max_efpr``). A system is
then judged by the operating points its scores allow under some
post-processing of the set, not by one arbitrary filter.

:func:`merge_class_rocs` takes the class ROCs of :func:`~.psds.class_rocs`
(threshold-free) of each post-processing (:func:`merge_resampled_class_rocs`: of
several clip sets, e.g. the bootstrap's resamples, at once); the value equals sed_scores_eval's
``postprocessing_independent_psds`` given the same post-processed scores.
(Its ``median_filter_independent_psds`` filters in continuous time, with
new time stamps; tbfl's median filters work on frames, so the two differ
by the filters, not by the merging.)
"""

from __future__ import annotations

import numpy as np

from tbfl.evaluation.metrics.intersection_based.psds import Psds, psds_from_rocs, staircases


def merge_class_rocs(rocs_per_postprocessing: list[list[tuple[np.ndarray, np.ndarray]]], max_efpr: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per class, the upper envelope ``(efpr, tpr)`` of its ROCs under every post-processing (each a list of C ROCs)."""
    return merge_resampled_class_rocs([[rocs] for rocs in rocs_per_postprocessing], max_efpr)[0]


def merge_resampled_class_rocs(rocs_per_postprocessing: list[list[list[tuple[np.ndarray, np.ndarray]]]],
                               max_efpr: float) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """:func:`merge_class_rocs` of each of R clip sets at once: ``rocs_per_postprocessing[p][r][c]`` -> ``[r][c]``.

    Each class's R envelopes come from one :func:`~.psds.staircases` call; rows shorter than the longest are
    padded with points at eFPR infinity (beyond ``max_efpr``: never kept, sorted after every kept point).
    """
    n_rows, n_classes = len(rocs_per_postprocessing[0]), len(rocs_per_postprocessing[0][0])
    merged: list[list] = [[] for _ in range(n_rows)]
    for c in range(n_classes):
        rows = [[rocs[r][c] for rocs in rocs_per_postprocessing] for r in range(n_rows)]
        lengths = [sum(len(efpr) for efpr, _ in row) for row in rows]
        efpr, tpr = np.full((n_rows, max(lengths)), np.inf), np.zeros((n_rows, max(lengths)))
        for r, row in enumerate(rows):
            efpr[r, : lengths[r]] = np.concatenate([x for x, _ in row])
            tpr[r, : lengths[r]] = np.concatenate([y for _, y in row])
        for r, roc in enumerate(staircases(tpr, efpr, max_efpr)):
            merged[r].append(roc)
    return merged


def postprocessing_independent_psds(
    classes: tuple[str, ...], rocs_per_postprocessing: list[list[tuple[np.ndarray, np.ndarray]]], n_ref: np.ndarray,
    *, alpha_st: float, max_efpr: float,
) -> Psds:
    """piPSDS from the (C,) class ROCs of each post-processing (classes without events left out, as PSDS)."""
    merged = merge_class_rocs(rocs_per_postprocessing, max_efpr)
    return psds_from_rocs(classes, merged, n_ref, alpha_st=alpha_st, max_efpr=max_efpr)
