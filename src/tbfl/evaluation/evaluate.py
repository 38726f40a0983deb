"""One call for every metric the recipe reports: :func:`evaluate_scores`.

Scores are median-filtered once; every metric then reads its thresholds off
the detection runs of :mod:`tbfl.evaluation.metrics.detections`. The
evaluation set is the durations list: every clip in it needs scores, and a
clip without reference events still counts its false alarms.

:func:`evaluate` is the pipeline on validated inputs; :func:`evaluate_scores`
(arrays or score tables, DataFrames) and :func:`evaluate_files` (files) are
the adapters that validate and call it. Settings live in
:mod:`~tbfl.evaluation.settings`, the result in :mod:`~tbfl.evaluation.result`,
the checks in :mod:`~tbfl.evaluation.validation`.

:func:`evaluate_psds` is the lean call for large sets (AudioSet-strong: 15k
clips, hundreds of classes): PSDS1 and PSDS2 only, classes a block at a
time, only the frames that can matter to PSDS searched; same values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from tqdm import tqdm

from tbfl.constants import DESED_CLASSES, FRAME_HOP_S
from tbfl.data.desed import read_durations_tsv, read_strong_tsv
from tbfl.evaluation.metrics.collar_based import collar_clip_counts, collar_counts
from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals
from tbfl.evaluation.metrics.fscore import FScoreSweep
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.bootstrap import (
    bootstrap_event_f1, bootstrap_intersection_f1, bootstrap_psds, confidence_interval, resampled_clip_weights,
)
from tbfl.evaluation.metrics.intersection_based import (
    Psds, class_rocs, efpr_floor, intersection_changes, intersection_fscore, psds_at_thresholds, psds_from_rocs,
    psds_threshold_free,
)
from tbfl.evaluation.postprocess import median_filter_clips, median_filter_frames
from tbfl.evaluation.result import EvaluationResult
from tbfl.evaluation.sebb import sebb_scores
from tbfl.evaluation.scores import clip_id, median_frame_hop_s, read_any_scores
from tbfl.evaluation.settings import DEFAULT_THRESHOLDS, PSDS1, PSDS2, EvaluationSettings, PsdsSettings
from tbfl.evaluation.tuning import PostprocessParams, tuned_scores
from tbfl.evaluation.validation import (
    check_clip_sets, check_durations, check_finite_block, listed_clips, reference_events, score_arrays, score_views,
)

__all__ = [
    "DEFAULT_THRESHOLDS", "PSDS1", "PSDS2", "EvaluationResult", "EvaluationSettings", "PsdsSettings",
    "evaluate", "evaluate_files", "evaluate_psds", "evaluate_scores",
]


def evaluate_scores(
    scores: Mapping[str, np.ndarray | pd.DataFrame],
    ground_truth: Any,
    durations: Mapping[str, float],
    classes: tuple[str, ...] = DESED_CLASSES,
    *,
    frame_hop_s: float = FRAME_HOP_S,
    median_filter_s: float = 0.45,
    thresholds: np.ndarray = DEFAULT_THRESHOLDS,
    f1_threshold: float = 0.5,
    psds1: PsdsSettings = PSDS1,
    psds2: PsdsSettings = PSDS2,
    times_s: Mapping[str, np.ndarray] | None = None,
    onset_collar_s: float = 0.2,
    offset_collar_s: float = 0.2,
    offset_collar_rate: float = 0.2,
    bootstrap: int = 0,
    bootstrap_seed: int = 0,
    postprocess: PostprocessParams | None = None,
    allow_tuning_set: bool = False,
) -> EvaluationResult:
    """Post-process frame scores and compute PSDS1/2, event-based and intersection-based F1.

    Args:
        scores: clip id -> (C, n_frames) scores in ``classes`` order, or
            sed_scores_eval score tables (onset, offset, one column per class).
        ground_truth: a ``StrongLabels`` (``.events``) or a DataFrame with
            filename, onset, offset, event_label (seconds; filename with or
            without ``.wav``).
        durations: clip id or filename -> clip duration in seconds; the
            evaluation set. Detections starting at or after a clip's duration
            (padding) are ignored.
        classes: class order of the scores.
        frame_hop_s: seconds per frame.
        median_filter_s: median filter length, rounded to an odd number of
            frames by :func:`~tbfl.evaluation.postprocess.median_filter_frames`.
        thresholds: operating points of the event-F1 sweep and of ``psds1``/``psds2``.
        f1_threshold: threshold of ``event_f1`` and ``intersection_f1``.
        times_s: clip id -> (n_frames + 1,) frame boundaries in seconds, for
            grids that are not ``i * frame_hop_s`` (then ``frame_hop_s`` only
            sizes the median filter).
        onset_collar_s, offset_collar_s, offset_collar_rate: event-F1 collars (sed_eval).
        bootstrap: number of clip resamples for 95% intervals of PSDS, intersection F1 and event F1 (0: none).
        postprocess: tuned per-class post-processing from :mod:`~tbfl.evaluation.tuning`: median
            filter lengths (they replace ``median_filter_s``), SEBBs if tuned, and per-class
            thresholds if tuned (then ``event_f1_tuned_thresholds`` is reported); refused on
            clips of its tuning set unless ``allow_tuning_set``, and on another frame hop.
    """
    classes = tuple(classes)
    if bootstrap < 0:
        raise ValueError(f"the number of bootstrap resamples must be >= 0, got {bootstrap}")
    thresholds = np.unique(np.asarray(thresholds, dtype=np.float64))
    durations = {clip_id(str(name)): float(seconds) for name, seconds in durations.items()}
    check_durations(durations)
    arrays = score_arrays(scores, classes, frame_hop_s)
    times = None if times_s is None else {clip_id(str(name)): np.asarray(t, np.float64) for name, t in times_s.items()}
    events = reference_events(ground_truth, classes)
    check_clip_sets(set(arrays), set(events["clip_id"]) | listed_clips(ground_truth), set(durations))
    settings = EvaluationSettings(
        classes=classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s,
        median_filter_frames=median_filter_frames(median_filter_s, frame_hop_s),
        thresholds=tuple(thresholds.tolist()), f1_threshold=f1_threshold, psds1=psds1, psds2=psds2,
        onset_collar_s=onset_collar_s, offset_collar_s=offset_collar_s, offset_collar_rate=offset_collar_rate,
        bootstrap=bootstrap, bootstrap_seed=bootstrap_seed,
        median_filter_frames_per_class=None if postprocess is None else postprocess.median_filter_frames,
        sebb=None if postprocess is None else postprocess.sebb,
        per_class_thresholds=None if postprocess is None else postprocess.thresholds,
    )
    if postprocess is not None:
        postprocess.check_applicable(classes, durations, allow_tuning_set=allow_tuning_set, frame_hop_s=frame_hop_s)
    return evaluate(arrays, events, durations, settings, times_s=times)


def evaluate(
    scores: Mapping[str, np.ndarray],
    events: pd.DataFrame,
    durations: Mapping[str, float],
    settings: EvaluationSettings,
    *,
    times_s: Mapping[str, np.ndarray] | None = None,
) -> EvaluationResult:
    """Every metric of validated inputs (see :mod:`~tbfl.evaluation.validation`).

    Args:
        scores: clip id -> (C, n_frames) float64 scores in ``settings.classes`` order.
        events: reference events with columns clip_id, onset, offset, event_label (seconds).
        durations: clip id -> duration in seconds; the evaluation set.
        settings: thresholds, collars, PSDS scenarios, median filter(s), SEBBs, per-class thresholds.
        times_s: clip id -> (n_frames + 1,) frame boundaries (seconds); default ``i * settings.frame_hop_s``.
    """
    classes = settings.classes
    thresholds = np.asarray(settings.thresholds, dtype=np.float64)
    f1_threshold, psds1, psds2 = settings.f1_threshold, settings.psds1, settings.psds2
    clip_ids = tuple(sorted(durations))
    if settings.median_filter_frames_per_class is None:
        filtered = median_filter_clips(dict(scores), settings.median_filter_frames)
        if settings.sebb is not None:
            filtered = sebb_scores(filtered, settings.sebb)
    else:
        filtered = tuned_scores(scores, settings.median_filter_frames_per_class, settings.sebb)
    grid = ScoreGrid.from_scores(filtered, clip_ids, settings.frame_hop_s, times_s)
    duration_s = np.array([durations[c] for c in clip_ids])
    intervals = detection_intervals(grid, duration_s, time_decimals=settings.time_decimals)
    reference = GroundTruth.from_events(events, clip_ids, classes)

    per_class_thresholds = [] if settings.per_class_thresholds is None else list(settings.per_class_thresholds)
    swept = np.union1d(thresholds, [f1_threshold, *per_class_thresholds])
    sweep = collar_counts(
        intervals, reference, classes, swept, onset_collar_s=settings.onset_collar_s,
        offset_collar_s=settings.offset_collar_s, offset_collar_rate=settings.offset_collar_rate,
        time_decimals=settings.time_decimals,
    )
    on_grid = np.isin(swept, thresholds)
    grid_sweep = FScoreSweep(classes, swept[on_grid], sweep.tp[on_grid], sweep.n_sys[on_grid], sweep.n_ref)

    def changes(dtc, gtc, cttc):
        return intersection_changes(
            intervals, reference, classes, dtc=dtc, gtc=gtc, cttc=cttc, time_decimals=settings.time_decimals,
        )

    total_s = float(duration_s.sum())
    weights = None if not settings.bootstrap else resampled_clip_weights(len(clip_ids), settings.bootstrap, settings.bootstrap_seed)
    psds_values, intervals_95 = [], {}
    for name, scenario in (("psds1", psds1), ("psds2", psds2)):
        scenario_changes = changes(scenario.dtc, scenario.gtc, scenario.cttc if scenario.alpha_ct > 0 else None)
        scenario_curves = scenario_changes.accumulate()
        options = dict(alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr)
        psds_values.append(psds_at_thresholds(scenario_curves, thresholds, total_s, **options))
        psds_values.append(psds_threshold_free(scenario_curves, total_s, **options))
        if weights is not None:
            intervals_95[name] = confidence_interval(bootstrap_psds(scenario_changes, duration_s, weights, scenario, thresholds))
            intervals_95[f"{name}_threshold_free"] = confidence_interval(
                bootstrap_psds(scenario_changes, duration_s, weights, scenario))
    intersection_changes_ = changes(settings.intersection_dtc, settings.intersection_gtc, None)
    intersection = intersection_changes_.accumulate()
    if weights is not None:
        intervals_95["intersection_f1"] = confidence_interval(
            bootstrap_intersection_f1(intersection_changes_, weights, f1_threshold))
        clip_counts = collar_clip_counts(
            intervals, reference, classes, swept, onset_collar_s=settings.onset_collar_s,
            offset_collar_s=settings.offset_collar_s, offset_collar_rate=settings.offset_collar_rate,
            time_decimals=settings.time_decimals,
        )
        at_threshold, best = bootstrap_event_f1(clip_counts, weights, f1_threshold, thresholds)
        intervals_95["event_f1"], intervals_95["event_f1_best"] = confidence_interval(at_threshold), confidence_interval(best)
    return EvaluationResult(
        psds1=psds_values[0], psds1_threshold_free=psds_values[1],
        psds2=psds_values[2], psds2_threshold_free=psds_values[3],
        event_f1=sweep.at(sweep.index_of(f1_threshold)),
        event_f1_best=grid_sweep.best(),
        event_f1_best_per_class=grid_sweep.best_per_class(),
        event_f1_sweep=grid_sweep,
        intersection_f1=intersection_fscore(intersection, f1_threshold),
        confidence_intervals=intervals_95,
        event_f1_tuned_thresholds=None if settings.per_class_thresholds is None else sweep.at(
            np.array([sweep.index_of(t) for t in per_class_thresholds])),
        n_clips=len(clip_ids), n_events=len(events), settings=settings,
    )


def evaluate_psds(
    scores: Mapping[str, np.ndarray],
    ground_truth: Any,
    durations: Mapping[str, float],
    classes: tuple[str, ...],
    *,
    frame_hop_s: float,
    times_s: Mapping[str, np.ndarray] | None = None,
    median_filter_s: float = 0.45,
    thresholds: np.ndarray = DEFAULT_THRESHOLDS,
    psds1: PsdsSettings = PSDS1,
    psds2: PsdsSettings = PSDS2,
    frames_per_block: int = 1 << 24,
    time_decimals: int = 6,
    progress: bool = False,
) -> dict[str, Psds]:
    """PSDS1 and PSDS2 of a large set, at ``thresholds`` and threshold-free: the values of :func:`evaluate_scores`.

    Returns ``{"psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free"}``.
    Arguments as :func:`evaluate_scores`, but ``scores`` must be arrays (clip id ->
    (C, n_frames), any real dtype; views into one (n_clips, C, n_frames) array
    are never copied whole). No F1, no bootstrap.

    Classes are taken a block at a time (about ``frames_per_block`` frames of
    all clips, held as float64 with a few byte-sized masks: about 0.5 GB at
    the default, on top of the scores): median filter, detection runs,
    intersection counts and each class's ROC, then the ROCs are combined. In each class, frames scoring at
    or below :func:`~tbfl.evaluation.metrics.intersection_based.efpr_floor`
    are not searched: every operating point there is beyond ``max_efpr``.
    """
    classes = tuple(classes)
    thresholds = np.unique(np.asarray(thresholds, dtype=np.float64))
    durations = {clip_id(str(name)): float(seconds) for name, seconds in durations.items()}
    check_durations(durations)
    arrays = score_views(scores, classes)
    times = None if times_s is None else {clip_id(str(name)): np.asarray(t, np.float64) for name, t in times_s.items()}
    events = reference_events(ground_truth, classes)
    check_clip_sets(set(arrays), set(events["clip_id"]) | listed_clips(ground_truth), set(durations))
    clip_ids = tuple(sorted(durations))
    duration_s = np.array([durations[c] for c in clip_ids])
    total_s = float(duration_s.sum())
    reference = GroundTruth.from_events(events, clip_ids, classes)
    filter_frames = median_filter_frames(median_filter_s, frame_hop_s)
    scenarios = {"psds1": psds1, "psds2": psds2}
    width = max(a.shape[1] for a in arrays.values()) + 2
    per_block = max(1, frames_per_block // (len(clip_ids) * width))
    rocs: dict[str, list] = {name: [] for name in ("psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free")}
    for first in tqdm(range(0, len(classes), per_block), desc="PSDS by class block", disable=not progress):
        block = np.arange(first, min(first + per_block, len(classes)))
        block_scores = {clip: arrays[clip][block[0] : block[-1] + 1] for clip in clip_ids}
        check_finite_block(block_scores, classes[block[0] : block[-1] + 1])
        if filter_frames > 1:
            block_scores = median_filter_clips(block_scores, filter_frames)
        grid = ScoreGrid.from_scores(block_scores, clip_ids, frame_hop_s, times)
        del block_scores
        floor = _psds_floor(grid, reference, block, duration_s, scenarios.values(), time_decimals)
        intervals = detection_intervals(grid, duration_s, time_decimals=time_decimals, floor=floor)
        intervals = intervals.in_class_set(first, len(classes))
        del grid
        for name, scenario in scenarios.items():
            curves = intersection_changes(
                intervals, reference, classes, dtc=scenario.dtc, gtc=scenario.gtc,
                cttc=scenario.cttc if scenario.alpha_ct > 0 else None, time_decimals=time_decimals,
            ).accumulate(classes=block)
            options = dict(alpha_ct=scenario.alpha_ct, max_efpr=scenario.max_efpr)
            rocs[name] += class_rocs(curves, total_s, thresholds=thresholds, **options)
            rocs[f"{name}_threshold_free"] += class_rocs(curves, total_s, **options)
    n_ref = reference.counts()
    return {
        name: psds_from_rocs(classes, class_roc_list, n_ref, alpha_st=scenarios[name[:5]].alpha_st,
                             max_efpr=scenarios[name[:5]].max_efpr)
        for name, class_roc_list in rocs.items()
    }


def _psds_floor(grid, reference, block, duration_s, scenarios, time_decimals) -> np.ndarray:
    """(len(block),) scores below which no PSDS operating point of the block's classes is within ``max_efpr``.

    ``-inf`` when a DTC is so small that a run without reference events could still be relevant.
    """
    frame_s = np.diff(grid.times_s, axis=1)
    if any(np.round(s.dtc * frame_s[frame_s > 0].min(), time_decimals) <= 0 for s in scenarios):
        return np.full(len(block), -np.inf)
    n_clips = len(duration_s)
    inside = np.round(grid.times_s[:, :-1] - duration_s[:, None], time_decimals) < 0
    values = grid.values.reshape(n_clips, len(block), -1)[:, :, 1:-1]
    row_max = values.max(axis=2, where=inside[:, None, :], initial=-np.inf)
    rows = np.arange(n_clips)[:, None] * reference.n_classes + block[None, :]
    has_events = reference.row_start[rows + 1] > reference.row_start[rows]
    max_efpr = max(s.max_efpr for s in scenarios)
    return efpr_floor(row_max, has_events, float(duration_s.sum()), max_efpr)


def evaluate_files(
    scores_dir: str | Path,
    ground_truth_tsv: str | Path,
    durations_tsv: str | Path,
    classes: tuple[str, ...] | None = DESED_CLASSES,
    *,
    median_filter_s: float = 0.45,
    progress: bool = False,
    **options: Any,
) -> EvaluationResult:
    """:func:`evaluate_scores` on a directory of ``<clip id>.tsv`` score files, a strong-label TSV and a durations TSV.

    Score files may have any contiguous frame grid sed_scores_eval reads;
    ``classes`` None takes the classes from their header. The median filter
    is sized by the median frame length (rounded to 1 ns). ``options`` go to :func:`evaluate_scores`.
    """
    scores, times_s, classes = read_any_scores(scores_dir, classes, progress=progress)
    frame_hop_s = median_frame_hop_s(times_s)
    ground_truth = read_strong_tsv(ground_truth_tsv, classes)
    durations = read_durations_tsv(durations_tsv)
    return evaluate_scores(
        scores, ground_truth, durations, classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s,
        times_s=times_s, **options,
    )
