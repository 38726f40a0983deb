"""The post-processing independent PSDS of a suite (:func:`pipsds`), and on request its values on the bootstrap's resamples.

One PSDS pass per median filter length gives each class a threshold-free ROC; piPSDS merges them per class
(the upper envelope: :mod:`~tbfl.evaluation.metrics.intersection_based.pipsds`) and computes PSDS from the
merged ROCs. The envelopes are merged one filter at a time, so only the running envelopes and one pass's ROCs
are kept. With ``settings.pipsds_intervals`` each pass draws the same clip resamples as the main pass (same
count and seed) and a resample's piPSDS merges that resample's ROCs of every filter: row 0 of the envelopes
is the evaluated clips, rows 1..R the resamples.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np

from tbfl.evaluation.blocks import FRAMES_PER_BLOCK, PSDS_FRAMES_PER_BLOCK, BlockMetrics, evaluate_blocks, fork_map
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import Psds, merge_resampled_class_rocs, psds_from_rocs
from tbfl.evaluation.postprocessing.frames import median_filter_frames
from tbfl.evaluation.settings import EvaluationSettings

#: The two piPSDS of a suite and the threshold-free ROCs each merges.
_ROCS = {"pipsds1": "psds1_threshold_free", "pipsds2": "psds2_threshold_free"}


def pipsds(
    scores: Mapping[str, np.ndarray], reference: GroundTruth, clip_ids: tuple[str, ...], duration_s: np.ndarray,
    settings: EvaluationSettings, times_s, frames_per_block: int, jobs: int, main: BlockMetrics,
) -> tuple[dict[str, Psds], dict[str, np.ndarray]]:
    """"pipsds1", "pipsds2" over ``settings.pipsds_filters_s`` (empty without), and with
    ``settings.pipsds_intervals`` each one's (R,) values on the resamples of the main pass ``main`` (else empty).

    A length that is the main evaluation's one median filter takes ``main``'s class ROCs instead of a pass; the
    other passes are PSDS-only. Without resamples they use blocks as many times larger as
    :data:`~tbfl.evaluation.blocks.PSDS_FRAMES_PER_BLOCK` is to the suite's default (about the same memory);
    with them, the suite's blocks (each block's resampled curves grow with its classes).
    """
    if settings.pipsds_filters_s is None:
        return {}, {}
    resampling = settings.pipsds_intervals
    scenarios = {"pipsds1": settings.psds1, "pipsds2": settings.psds2}
    merged: dict[str, list] = {}  # name -> [row][class] envelope of the filters so far
    for length_s in settings.pipsds_filters_s:
        frames = median_filter_frames(length_s, settings.frame_hop_s)
        if settings.median_filter_frames_per_class is None and settings.sebb is None and frames == settings.median_filter_frames:
            metrics = main
        else:
            filtered = replace(settings, median_filter_s=length_s, median_filter_frames=frames, median_filter_frames_per_class=None,
                               sebb=None, bootstrap=settings.bootstrap if resampling else 0)
            block_frames = frames_per_block if resampling else frames_per_block * (PSDS_FRAMES_PER_BLOCK // FRAMES_PER_BLOCK)
            metrics = evaluate_blocks(scores, reference, clip_ids, duration_s, filtered, times_s=times_s, psds_only=True,
                                      jobs=jobs, frames_per_block=block_frames)
        for name, rocs in _ROCS.items():
            rows = [metrics.rocs[rocs], *(metrics.resampled["rocs"][rocs] if resampling else [])]
            merged[name] = merge_resampled_class_rocs([merged[name], rows], scenarios[name].max_efpr) if name in merged else rows
        del metrics  # before the next pass: one pass's ROCs at a time
    n_ref = np.vstack([reference.counts(), *(main.resampled["n_ref"] if resampling else [])])
    context = (settings.classes, scenarios, merged, n_ref)
    point = {name: _row_pipsds(context, (name, 0)) for name in _ROCS}
    if not resampling:
        return point, {}
    tasks = [(name, row) for name in _ROCS for row in range(1, len(n_ref))]
    values = np.array(list(fork_map(_resample_pipsds, context, tasks, jobs, chunksize=max(1, len(tasks) // (4 * jobs)))))
    return point, dict(zip(_ROCS, values.reshape(len(_ROCS), -1)))


def _row_pipsds(context: tuple, task: tuple[str, int]) -> Psds:
    """piPSDS ``task = (name, row)`` of a row of the envelopes (0: the evaluated clips; r: resample r), classes without
    events in it left out."""
    classes, scenarios, merged, n_ref = context
    name, row = task
    scenario = scenarios[name]
    return psds_from_rocs(classes, merged[name][row], n_ref[row], alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr)


def _resample_pipsds(context: tuple, task: tuple[str, int]) -> float:
    """The value of :func:`_row_pipsds` (what a worker sends back)."""
    return _row_pipsds(context, task).value
