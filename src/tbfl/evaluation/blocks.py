"""Every metric of :func:`~tbfl.evaluation.evaluate.evaluate`, classes a block at a time: memory bounded by a block.

Each metric but one is a per-class quantity of that class's scores: the
collar-based counts per threshold, the intersection-based counts, each class's
PSDS ROC. The exception, PSDS2's cross-trigger term, reads only the *reference
events* of the other classes (:attr:`~.metrics.intersection_based.IntersectionCurves.ct_rate`),
never their scores. So the classes are taken a block at a time, about
``frames_per_block`` frames of all clips (:func:`class_blocks`):

1. post-processing of the block's scores (median filter, per-class filters,
   SEBBs), as float64 (:func:`block_grid`);
2. the detection runs, once, above a floor per class: the lowest swept
   threshold for the F1s, :func:`psds_floor` for PSDS (the runs of each are
   then :meth:`~.metrics.detections.Intervals.above` its own floor);
3. the small results of the block's classes, kept: collar counts per
   threshold (K, C), intersection TP/FP at the F1 threshold, the class ROCs
   of PSDS1/2 (threshold-free and at the operating points), the clip and
   segment scores and their AUROCs.

With ``bootstrap > 0`` each block also leaves, per resample, its counts
(collar counts summed with the clip weights, (R, K, C); intersection counts,
(R, C)) and its class ROCs; the eFPR floor is then the lowest over the
evaluated clips and every resample (a resample changes the duration and the
false positives: :func:`~.metrics.intersection_based.efpr_floor`).

The numbers are those of one pass over all classes: every count is an
integer sum, and each class's curves sum the same changes in the same order.
:func:`evaluate_blocks` returns :class:`BlockMetrics`; ``evaluate`` and
``evaluate_psds`` build their results from it. With ``jobs`` > 1 the blocks, and
then each resample's PSDS, are computed by forked processes (:func:`fork_map`)
and gathered in order: the same numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from dataclasses import dataclass, field
from typing import Iterator, Mapping

import numpy as np
from tqdm import tqdm

from tbfl.evaluation.bootstrap import (
    event_f1_of_resamples, intersection_f1_of_resamples, psds_of_resamples, resampled_clip_weights,
    resampled_counts, resampled_reference, resampled_rocs,
)
from tbfl.evaluation.metrics.auroc import Auroc
from tbfl.evaluation.metrics.clip_based import clip_scores, clip_statistics
from tbfl.evaluation.metrics.collar_based import collar_clip_counts
from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals
from tbfl.evaluation.metrics.error_rate import ErrorRate
from tbfl.evaluation.metrics.fscore import FScore, FScoreSweep
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import Psds, class_rocs, efpr_floor, intersection_changes, psds_from_rocs
from tbfl.evaluation.metrics.items import ItemMetrics, ItemStatistics
from tbfl.evaluation.metrics.segment_based import Segments
from tbfl.evaluation.postprocessing.params import tuned_scores
from tbfl.evaluation.settings import EvaluationSettings
from tbfl.evaluation.validation import check_finite_block

#: Default block of the full suite: about 0.5 GB at its peak (runs, matches, intersection changes), on top of the scores.
FRAMES_PER_BLOCK = 1 << 21
#: Default block of a PSDS-only pass (``evaluate_psds``, piPSDS): about the same memory, as it searches only the frames
#: above the eFPR floor and keeps no F1 counts.
PSDS_FRAMES_PER_BLOCK = 1 << 24
#: The two point sets of each PSDS scenario: the operating points (suffix "") and every threshold.
_POINT_SETS = ("", "_threshold_free")
#: A bootstrap whose per-resample results may exceed this many bytes is warned about (:func:`bootstrap_bytes`).
BOOTSTRAP_WARN_BYTES = 4 * 2**30


def class_blocks(scores: Mapping[str, np.ndarray], clip_ids: tuple[str, ...], n_classes: int, frames_per_block: int) -> list[np.ndarray]:
    """Consecutive class indices, about ``frames_per_block`` frames (grid columns) of all clips a block, at least one class."""
    width = max(np.shape(scores[clip])[1] for clip in clip_ids) + 2
    per_block = max(1, frames_per_block // (len(clip_ids) * width))
    return [np.arange(first, min(first + per_block, n_classes)) for first in range(0, n_classes, per_block)]


def block_grid(scores: Mapping[str, np.ndarray], clip_ids: tuple[str, ...], block: np.ndarray, settings: EvaluationSettings,
               times_s: Mapping[str, np.ndarray] | None = None) -> ScoreGrid:
    """The post-processed scores of the ``block`` classes of every clip (checked finite), as a grid of those classes."""
    first, stop = int(block[0]), int(block[-1]) + 1
    block_scores = {clip: np.asarray(scores[clip])[first:stop] for clip in clip_ids}
    check_finite_block(block_scores, settings.classes[first:stop])
    sebb = None if settings.sebb is None else [settings.sebb[c] for c in block]
    frames = settings.median_filter_frames_per_class or (settings.median_filter_frames,) * len(settings.classes)
    block_scores = tuned_scores(block_scores, [frames[c] for c in block], sebb)
    return ScoreGrid.from_scores(block_scores, clip_ids, settings.frame_hop_s, times_s)


def psds_floor(
    grid: ScoreGrid, reference: GroundTruth, block: np.ndarray, duration_s: np.ndarray, settings: EvaluationSettings,
    clip_weights: np.ndarray | None = None,
) -> np.ndarray:
    """(len(block),) scores below which no PSDS operating point of the block's classes is within ``max_efpr``,
    on the evaluated clips and on every resample of ``clip_weights`` (n_resamples, n_clips).

    ``-inf`` when a DTC is so small that a run without reference events could still be relevant.
    """
    scenarios = (settings.psds1, settings.psds2)
    frame_s = np.diff(grid.times_s, axis=1)
    if any(np.round(s.dtc * frame_s[frame_s > 0].min(), settings.time_decimals) <= 0 for s in scenarios):
        return np.full(len(block), -np.inf)
    n_clips = len(duration_s)
    inside = np.round(grid.times_s[:, :-1] - duration_s[:, None], settings.time_decimals) < 0
    values = grid.values.reshape(n_clips, len(block), -1)[:, :, 1:-1]
    row_max = values.max(axis=2, where=inside[:, None, :], initial=-np.inf)
    rows = np.arange(n_clips)[:, None] * reference.n_classes + block[None, :]
    has_events = reference.row_start[rows + 1] > reference.row_start[rows]
    max_efpr = max(s.max_efpr for s in scenarios)
    return efpr_floor(row_max, has_events, float(duration_s.sum()), max_efpr, clip_weights=clip_weights, clip_duration_s=duration_s)


def bootstrap_bytes(n_resamples: int, n_swept: int, n_classes: int, n_events: int) -> int:
    """Upper bound of what the bootstrap keeps for all classes until the end: per resample, the collar counts
    (2 x K x C int64) and the four sets of class ROCs (threshold-free: at most N_ref + 1 points a class;
    at the operating points: at most K + 1; 16 bytes a point, about 100 bytes an array)."""
    points = 2 * (n_events + n_classes) + 2 * n_classes * (n_swept + 1)
    return n_resamples * (16 * n_swept * n_classes + 16 * points + 8 * 100 * n_classes)


def physical_memory_bytes() -> int:
    """The machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def swept_thresholds(settings: EvaluationSettings) -> np.ndarray:
    """The event-F1 sweep: the operating points, the F1 threshold and the per-class thresholds, ascending."""
    return np.union1d(settings.thresholds, [settings.f1_threshold, *(settings.per_class_thresholds or ())])


@dataclass
class BlockMetrics:
    """The small per-class results every block leaves, for all classes.

    ``rocs``: "psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free" -> (C,) class ROCs.
    ``collar_tp``, ``collar_n_sys`` (K, C) at :func:`swept_thresholds`; ``intersection_tp``,
    ``intersection_fp`` (C,) at the F1 threshold (None for PSDS only). ``resampled``: per resample,
    the same (rocs: name -> list of C ROCs per resample; counts with a leading resample axis;
    ``n_ref`` (R, C)), or None without bootstrap.
    """

    settings: EvaluationSettings
    n_ref: np.ndarray
    rocs: dict[str, list]
    collar_tp: np.ndarray | None = None
    collar_n_sys: np.ndarray | None = None
    intersection_tp: np.ndarray | None = None
    intersection_fp: np.ndarray | None = None
    resampled: dict | None = None
    #: Item-based metrics (None for PSDS only): the reference, (n_clips, C) clip scores, the segments and their scores.
    reference: GroundTruth | None = None
    clip_scores: np.ndarray | None = None
    segments: Segments | None = None
    segment_scores: np.ndarray | None = None
    #: "clip" (and "segment") -> (1 + R, C) AUROC per class on the evaluated clips (row 0) and each resample.
    aurocs: dict[str, np.ndarray] = field(default_factory=dict)

    def item_statistics(self) -> dict[str, ItemStatistics]:
        """"clip" (tagging) and, with a segment length, "segment" -> the items of all classes."""
        classes = self.settings.classes
        items = {"clip": clip_statistics(classes, self.clip_scores, self.reference)}
        if self.segments is not None:
            items["segment"] = self.segments.statistics(classes, self.segment_scores, len(self.clip_scores))
        return items

    def more_metrics(self) -> dict:
        """The error rates at the F1 threshold (collar- and intersection-based) and the item-based families,
        keyed as :class:`~tbfl.evaluation.result.EvaluationResult`'s fields."""
        s = self.settings
        sweep = self.event_f1_sweep()
        k = sweep.index_of(s.f1_threshold)
        tp, fp = self.intersection_tp, self.intersection_fp
        return {
            "collar_error_rate": ErrorRate.from_counts(s.classes, s.f1_threshold, sweep.tp[k], sweep.n_sys[k], self.n_ref),
            "intersection_error_rate": ErrorRate.from_counts(s.classes, s.f1_threshold, tp, tp + fp, self.n_ref),
            **{f"{name}_based": ItemMetrics(items.fscore(s.f1_threshold), items.error_rate(s.f1_threshold),
                                            Auroc.from_values(s.classes, s.auroc_max_fpr, self.aurocs[name][0]))
               for name, items in self.item_statistics().items()},
        }

    def psds(self) -> dict[str, Psds]:
        """"psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free" -> the PSDS of all classes."""
        scenarios = {"psds1": self.settings.psds1, "psds2": self.settings.psds2}
        return {name: psds_from_rocs(self.settings.classes, self.rocs[name], self.n_ref, alpha_st=scenarios[name[:5]].alpha_st,
                                     max_efpr=scenarios[name[:5]].max_efpr) for name in self.rocs}

    def event_f1_sweep(self) -> FScoreSweep:
        """Collar-based counts at :func:`swept_thresholds`."""
        return FScoreSweep(self.settings.classes, swept_thresholds(self.settings), self.collar_tp, self.collar_n_sys, self.n_ref)

    def intersection_f1(self) -> FScore:
        """Intersection-based F-score at the F1 threshold."""
        tp, fp = self.intersection_tp, self.intersection_fp
        return FScore.from_counts(self.settings.classes, self.settings.f1_threshold, tp, tp + fp, self.n_ref)

    def resampled_values(self, jobs: int = 1) -> dict[str, np.ndarray]:
        """Metric -> (R,) its value on each resample, in the order of the clip weights (empty without bootstrap);
        the PSDS of the resamples in ``jobs`` forked processes."""
        if self.resampled is None:
            return {}
        s, r = self.settings, self.resampled
        n_resamples = len(r["n_ref"])
        names = [name + suffix for name in ("psds1", "psds2") for suffix in _POINT_SETS]
        tasks = [(name, i) for name in names for i in range(n_resamples)]
        psds = np.array(list(fork_map(_resample_psds, self, tasks, jobs, chunksize=max(1, len(tasks) // (4 * jobs)))))
        values = dict(zip(names, psds.reshape(len(names), n_resamples)))
        values["intersection_f1"] = intersection_f1_of_resamples(
            s.classes, s.f1_threshold, r["intersection_tp"], r["intersection_fp"], r["n_ref"])
        at_threshold, best = event_f1_of_resamples(s.classes, swept_thresholds(s), r["collar_tp"], r["collar_n_sys"], r["n_ref"],
                                                   s.f1_threshold, np.asarray(s.thresholds))
        values["event_f1"], values["event_f1_best"] = at_threshold, best
        k = int(np.flatnonzero(np.isclose(swept_thresholds(s), s.f1_threshold, rtol=0, atol=1e-12))[0])
        values["collar_error_rate"] = np.array([
            ErrorRate.from_counts(s.classes, s.f1_threshold, *counts).error_rate_macro
            for counts in zip(r["collar_tp"][:, k], r["collar_n_sys"][:, k], r["n_ref"])])
        values["intersection_error_rate"] = np.array([
            ErrorRate.from_counts(s.classes, s.f1_threshold, tp, tp + fp, n_ref).error_rate_macro
            for tp, fp, n_ref in zip(r["intersection_tp"], r["intersection_fp"], r["n_ref"])])
        for name, items in self.item_statistics().items():
            counts = list(zip(*(resampled_counts(c, r["weights"]) for c in items.clip_counts(s.f1_threshold))))
            values[f"{name}_f1"] = np.array([FScore.from_counts(s.classes, s.f1_threshold, *c).f1_macro for c in counts])
            values[f"{name}_error_rate"] = np.array([
                ErrorRate.from_counts(s.classes, s.f1_threshold, *c).error_rate_macro for c in counts])
            values[f"{name}_auroc"] = np.array([Auroc.from_values(s.classes, s.auroc_max_fpr, per_class).mean
                                                for per_class in self.aurocs[name][1:]])
        return values


def evaluate_blocks(
    scores: Mapping[str, np.ndarray],
    reference: GroundTruth,
    clip_ids: tuple[str, ...],
    duration_s: np.ndarray,
    settings: EvaluationSettings,
    *,
    times_s: Mapping[str, np.ndarray] | None = None,
    frames_per_block: int = FRAMES_PER_BLOCK,
    psds_only: bool = False,
    progress: bool = False,
    jobs: int = 1,
) -> BlockMetrics:
    """Every metric's per-class results (PSDS only with ``psds_only``: the class ROCs, and with
    ``settings.bootstrap`` those of each resample), classes a block at a time.

    ``scores``: clip id -> (C, n_frames) real arrays (only a block of classes is read and
    converted at a time); ``reference`` and ``duration_s`` follow ``clip_ids``. ``jobs`` > 1:
    the blocks are evaluated by that many forked processes (each holds one block at a time; they
    share the scores) and gathered in block order, so the numbers do not depend on it.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    n_classes, n_clips = len(settings.classes), len(clip_ids)
    n_ref = reference.counts()
    metrics = BlockMetrics(settings, n_ref, {name + suffix: [] for name in ("psds1", "psds2") for suffix in _POINT_SETS})
    n_swept = 0 if psds_only else len(swept_thresholds(settings))
    weights = None
    if settings.bootstrap:
        _check_bootstrap_memory(settings.bootstrap, n_swept, n_classes, len(reference.row), n_clips)
        weights = resampled_clip_weights(n_clips, settings.bootstrap, settings.bootstrap_seed)
        metrics.resampled = _resampled_totals(reference, weights, n_swept, metrics.rocs)
    if not psds_only:
        metrics.collar_tp, metrics.collar_n_sys = (np.zeros((n_swept, n_classes), dtype=np.int64) for _ in range(2))
        metrics.intersection_tp, metrics.intersection_fp = (np.zeros(n_classes, dtype=np.int64) for _ in range(2))
        metrics.reference, metrics.clip_scores = reference, np.zeros((n_clips, n_classes))
        if settings.segment_length_s is not None:
            n_frames = np.array([np.shape(scores[clip])[1] for clip in clip_ids])
            first = block_grid(scores, clip_ids, np.arange(1), settings, times_s)
            metrics.segments = Segments.of(first, n_frames, duration_s, reference, settings.segment_length_s, settings.time_decimals)
            metrics.segment_scores = np.zeros((len(metrics.segments.clip), n_classes))
    context = _BlockContext(scores, reference, clip_ids, duration_s, settings, times_s, psds_only, weights,
                            None if weights is None else (metrics.resampled["n_ref"], metrics.resampled["ref_length_s"]),
                            metrics.segments)
    blocks = class_blocks(scores, clip_ids, n_classes, frames_per_block)
    for block, result in tqdm(zip(blocks, fork_map(_evaluate_block, context, blocks, jobs)), total=len(blocks), desc="classes by block",
                              disable=not progress):
        _gather(metrics, block, result)
    return metrics


@dataclass(frozen=True)
class _BlockContext:
    """What every block reads: the inputs, the bootstrap's clip weights (R, n_clips) and reference totals, the segments."""

    scores: Mapping[str, np.ndarray]
    reference: GroundTruth
    clip_ids: tuple[str, ...]
    duration_s: np.ndarray
    settings: EvaluationSettings
    times_s: Mapping[str, np.ndarray] | None
    psds_only: bool
    weights: np.ndarray | None
    resampled_reference: tuple[np.ndarray, np.ndarray] | None
    segments: Segments | None


#: What a forked worker calls: (function, context), set in the parent just before the fork.
_WORKER_TASK: tuple | None = None


def fork_map(function, context, items: list, jobs: int, chunksize: int = 1) -> Iterator:
    """``function(context, item)`` for each of ``items``, in order; ``jobs`` > 1 forked processes, which inherit
    ``context`` (nothing large is pickled on the way there) and send back only the results."""
    global _WORKER_TASK
    if jobs <= 1 or len(items) <= 1:
        yield from (function(context, item) for item in items)
        return
    _WORKER_TASK = (function, context)
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(items))) as pool:
            yield from pool.imap(_call_in_worker, items, chunksize)
    finally:
        _WORKER_TASK = None


def _call_in_worker(item):
    function, context = _WORKER_TASK
    return function(context, item)


def _evaluate_block(context: _BlockContext, block: np.ndarray) -> dict:
    """The small results of one block of classes (what :func:`_gather` adds to the totals)."""
    c, s = context, context.settings
    n_classes, n_clips = len(s.classes), len(c.clip_ids)
    scenarios = {"psds1": s.psds1, "psds2": s.psds2}
    point_sets = (np.asarray(s.thresholds, dtype=np.float64), None)
    total_s = float(c.duration_s.sum())
    grid = block_grid(c.scores, c.clip_ids, block, s, c.times_s)
    result: dict = {"rocs": {}, "resampled_rocs": {}}
    if not c.psds_only:
        result["clip_scores"] = clip_scores(grid)
        if c.segments is not None:
            result["segment_scores"] = c.segments.scores(grid)
    psds_runs_floor = psds_floor(grid, c.reference, block, c.duration_s, s, c.weights)
    f1_floor = np.full(len(block), np.inf if c.psds_only else swept_thresholds(s)[0])
    intervals = detection_intervals(grid, c.duration_s, time_decimals=s.time_decimals, floor=np.minimum(psds_runs_floor, f1_floor))
    del grid
    if not c.psds_only:
        result.update(_f1_counts(s, block, intervals.above(f1_floor), c.reference, n_clips, c.weights))
        result["aurocs"] = _block_aurocs(c, block, result)
    runs = intervals.above(psds_runs_floor).in_class_set(int(block[0]), n_classes)
    del intervals
    for name, scenario in scenarios.items():
        changes = intersection_changes(
            runs, c.reference, s.classes, dtc=scenario.dtc, gtc=scenario.gtc,
            cttc=scenario.cttc if scenario.alpha_ct > 0 else None, time_decimals=s.time_decimals,
        )
        curves = changes.accumulate(classes=block)
        options = dict(alpha_ct=scenario.alpha_ct, max_efpr=scenario.max_efpr)
        for suffix, points in zip(_POINT_SETS, point_sets):
            result["rocs"][name + suffix] = class_rocs(curves, total_s, thresholds=points, **options)
        if c.weights is not None:
            resampled, _ = resampled_rocs(changes, c.duration_s, c.weights, scenario, point_sets, block, reference=c.resampled_reference)
            for suffix, per_resample in zip(_POINT_SETS, resampled):
                result["resampled_rocs"][name + suffix] = per_resample
        del changes, curves  # before the next scenario's
    return result


def _block_aurocs(context: _BlockContext, block: np.ndarray, result: dict) -> dict[str, np.ndarray]:
    """"clip" (and "segment") -> (1 + R, len(block)) AUROC of the block's classes: on the evaluated clips (row 0),
    then on each resample."""
    s = context.settings
    first, stop = int(block[0]), int(block[-1]) + 1
    classes = s.classes[first:stop]
    items = {"clip": clip_statistics(classes, result["clip_scores"], context.reference.class_block(first, stop))}
    if context.segments is not None:
        segments = context.segments
        items["segment"] = ItemStatistics(classes, result["segment_scores"], segments.positive[:, first:stop], segments.clip,
                                          len(context.clip_ids))
    weights = np.ones((1, len(context.clip_ids)))
    if context.weights is not None:
        weights = np.vstack([weights, context.weights])
    return {name: np.array([a.per_class for a in family.auroc(s.auroc_max_fpr, clip_weights=weights)])
            for name, family in items.items()}


def _gather(metrics: BlockMetrics, block: np.ndarray, result: dict) -> None:
    """Add one block's results (:func:`_evaluate_block`) to the totals of all classes."""
    first, stop = int(block[0]), int(block[-1]) + 1
    for name, rocs in result["rocs"].items():
        metrics.rocs[name] += rocs
    for name, per_resample in result["resampled_rocs"].items():
        for gathered, block_rocs in zip(metrics.resampled["rocs"][name], per_resample):
            gathered += block_rocs
    if "clip_scores" not in result:
        return
    metrics.clip_scores[:, first:stop] = result["clip_scores"]
    for name, aurocs in result["aurocs"].items():
        metrics.aurocs.setdefault(name, np.full((len(aurocs), len(metrics.settings.classes)), np.nan))[:, first:stop] = aurocs
    if "segment_scores" in result:
        metrics.segment_scores[:, first:stop] = result["segment_scores"]
    metrics.collar_tp[:, first:stop], metrics.collar_n_sys[:, first:stop] = result["collar_tp"], result["collar_n_sys"]
    metrics.intersection_tp[first:stop], metrics.intersection_fp[first:stop] = result["intersection_tp"], result["intersection_fp"]
    if metrics.resampled is not None:
        r = metrics.resampled
        for name in ("collar_tp", "collar_n_sys"):
            r[name][:, :, first:stop] = result["resampled_" + name]
        for name in ("intersection_tp", "intersection_fp"):
            r[name][:, first:stop] = result["resampled_" + name]


def _check_bootstrap_memory(n_resamples: int, n_swept: int, n_classes: int, n_events: int, n_clips: int) -> None:
    """Refuse a bootstrap whose kept results exceed the machine's memory; warn above :data:`BOOTSTRAP_WARN_BYTES`."""
    kept = bootstrap_bytes(n_resamples, n_swept, n_classes, n_events)
    needed, memory = kept + 8 * n_resamples * n_clips, physical_memory_bytes()  # and the (R, clips) draws
    if needed > memory:
        raise ValueError(
            f"--bootstrap {n_resamples} would keep up to {needed / 2**30:.1f} GB of resample draws, counts and "
            f"ROCs ({n_clips} clips, {n_classes} classes, {n_events} reference events), more than this "
            f"machine's {memory / 2**30:.1f} GB of memory; at most {int(n_resamples * memory / needed)} resamples fit"
        )
    if kept > BOOTSTRAP_WARN_BYTES:
        warnings.warn(
            f"bootstrap={n_resamples} keeps each resample's counts and PSDS ROCs of {n_classes} classes "
            f"({n_events} reference events) until the end: up to {kept / 2**30:.1f} GB on top of a "
            "block; fewer resamples need proportionally less", UserWarning, stacklevel=5,
        )


def _resample_psds(metrics: BlockMetrics, task: tuple[str, int]) -> float:
    """The PSDS ``task = (name, i)`` ("psds1", "psds2_threshold_free", ...) of resample i, from its class ROCs."""
    name, i = task
    scenario = metrics.settings.psds1 if name.startswith("psds1") else metrics.settings.psds2
    r = metrics.resampled
    return float(psds_of_resamples(metrics.settings.classes, [r["rocs"][name][i]], r["n_ref"][i : i + 1], scenario)[0])


def _resampled_totals(reference: GroundTruth, weights: np.ndarray, n_swept: int, names) -> dict:
    """Empty per-resample results of all classes, and each resample's reference counts (R, C)."""
    n_resamples = len(weights)
    n_classes = reference.n_classes
    n_ref, ref_length_s = resampled_reference(reference.row, reference.length_s, n_classes, weights)
    return {
        "rocs": {name: [[] for _ in range(n_resamples)] for name in names},
        "n_ref": n_ref,
        "ref_length_s": ref_length_s,
        "collar_tp": np.zeros((n_resamples, n_swept, n_classes), dtype=np.int64),
        "collar_n_sys": np.zeros((n_resamples, n_swept, n_classes), dtype=np.int64),
        "intersection_tp": np.zeros((n_resamples, n_classes), dtype=np.int64),
        "intersection_fp": np.zeros((n_resamples, n_classes), dtype=np.int64),
        "weights": weights,
    }


def _f1_counts(s: EvaluationSettings, block: np.ndarray, runs, reference: GroundTruth, n_clips: int,
               weights: np.ndarray | None) -> dict[str, np.ndarray]:
    """The block's collar counts at the swept thresholds and intersection counts at the F1 threshold (and per resample)."""
    first, stop = int(block[0]), int(block[-1]) + 1
    local = reference.class_block(first, stop)
    block_classes = s.classes[first:stop]
    collar = collar_clip_counts(
        runs, local, block_classes, swept_thresholds(s), onset_collar_s=s.onset_collar_s, offset_collar_s=s.offset_collar_s,
        offset_collar_rate=s.offset_collar_rate, time_decimals=s.time_decimals,
    )
    sweep = collar.accumulate()
    counts = {"collar_tp": sweep.tp, "collar_n_sys": sweep.n_sys}
    if weights is not None:
        counts["resampled_collar_tp"] = resampled_counts(collar.tp, weights)
        counts["resampled_collar_n_sys"] = resampled_counts(collar.n_sys, weights)
    del collar
    tp, fp = intersection_changes(
        runs, local, block_classes, dtc=s.intersection_dtc, gtc=s.intersection_gtc, time_decimals=s.time_decimals,
    ).clip_counts(s.f1_threshold, n_clips)
    counts["intersection_tp"], counts["intersection_fp"] = tp.sum(axis=0), fp.sum(axis=0)
    if weights is not None:
        counts["resampled_intersection_tp"] = resampled_counts(tp, weights)
        counts["resampled_intersection_fp"] = resampled_counts(fp, weights)
    return counts
