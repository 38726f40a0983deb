"""One call for every metric the recipe reports: :func:`evaluate_scores`.

Scores are post-processed (median filter, tuned filters, SEBBs) and every
metric then reads its thresholds off the detection runs of
:mod:`tbfl.evaluation.metrics.detections`, classes a block at a time
(:mod:`tbfl.evaluation.blocks`): memory is bounded by a block of classes,
on top of the scores, for any number of clips and classes. The evaluation
set is the durations list: every clip in it needs scores, and a clip without
reference events still counts its false alarms.

:func:`evaluate` is the pipeline on validated inputs; :func:`evaluate_scores`
(arrays or score tables, DataFrames) and :func:`evaluate_files` (files) are
the adapters that validate and call it. Settings live in
:mod:`~tbfl.evaluation.settings`, the result in :mod:`~tbfl.evaluation.result`,
the checks in :mod:`~tbfl.evaluation.validation`.

:func:`evaluate_psds` is the lean call for large sets (AudioSet-strong: 15k
clips, hundreds of classes): PSDS1 and PSDS2 only, larger blocks, only the
frames that can matter to PSDS searched; same values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from tbfl.constants import DESED_CLASSES, FRAME_HOP_S
from tbfl.evaluation.blocks import FRAMES_PER_BLOCK, PSDS_FRAMES_PER_BLOCK, evaluate_blocks
from tbfl.evaluation.bootstrap import confidence_interval
from tbfl.evaluation.metrics.fscore import FScoreSweep
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import Psds
from tbfl.evaluation.pipsds import pipsds
from tbfl.evaluation.postprocessing.frames import median_filter_frames
from tbfl.evaluation.result import EvaluationResult
from tbfl.evaluation.inputs import read_evaluation_files
from tbfl.evaluation.scores import clip_id
from tbfl.evaluation.settings import DEFAULT_THRESHOLDS, PSDS1, PSDS2, EvaluationSettings, PsdsSettings
from tbfl.evaluation.postprocessing.params import PostprocessParams
from tbfl.evaluation.validation import (
    check_clip_sets, check_durations, listed_clips, reference_events, score_arrays, score_views,
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
    frames_per_block: int = FRAMES_PER_BLOCK,
    progress: bool = False,
    segment_length_s: float | None = None,
    auroc_max_fpr: float | None = None,
    pipsds_filters_s: tuple[float, ...] | None = None,
    pipsds_intervals: bool = False,
    jobs: int = 1,
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
            frames by :func:`~tbfl.evaluation.postprocessing.frames.median_filter_frames`.
        thresholds: operating points of the event-F1 sweep and of ``psds1``/``psds2``.
        f1_threshold: threshold of ``event_f1`` and ``intersection_f1``.
        times_s: clip id -> (n_frames + 1,) frame boundaries in seconds, for
            grids that are not ``i * frame_hop_s`` (then ``frame_hop_s`` only
            sizes the median filter).
        onset_collar_s, offset_collar_s, offset_collar_rate: event-F1 collars (sed_eval).
        bootstrap: number of clip resamples for 95% intervals of every metric (piPSDS with ``pipsds_intervals``; 0: none).
            Computed block by block too, but each resample's per-class results (collar counts, class
            ROCs) are kept to the end: at most :func:`~tbfl.evaluation.blocks.bootstrap_bytes`
            (about 4 MB a resample for 400 classes and 100k events), with a warning above 4 GB.
        postprocess: tuned per-class post-processing from :mod:`~tbfl.evaluation.postprocessing.tuning`: median
            filter lengths (they replace ``median_filter_s``), SEBBs if tuned, and per-class
            thresholds if tuned (then ``event_f1_tuned_thresholds`` is reported); refused on
            clips of its tuning set unless ``allow_tuning_set``, and on another frame hop.
        frames_per_block: classes are evaluated a block at a time, about this many frames of all
            clips a block (at least one class): about 0.5 GB at the default, on top of the scores
            (see :mod:`~tbfl.evaluation.blocks`); the numbers do not depend on it.
        progress: a progress bar over the class blocks.
        segment_length_s: also the segment-based F1, error rate and AUROC over segments of this length.
        auroc_max_fpr: the segment- and clip-based AUROC up to this FPR (partial AUROC; None: the full area).
        pipsds_filters_s: also the post-processing independent PSDS1/2 over median filters of these lengths
            (e.g. :data:`~tbfl.evaluation.settings.DEFAULT_PIPSDS_FILTERS_S`): one PSDS pass per length.
        pipsds_intervals: also piPSDS's intervals on the ``bootstrap`` resamples: each PSDS pass is resampled
            too, which costs about as much again per length as the main pass's PSDS bootstrap.
        jobs: processes evaluating class blocks at once (forked; they share the scores; about one block's memory
            each); the numbers do not depend on it.
    """
    classes = tuple(classes)
    if bootstrap < 0 or bootstrap == 1:
        raise ValueError(f"the number of bootstrap resamples must be 0 (none) or >= 2 (an interval needs a spread of resamples), got {bootstrap}")
    arrays, events, durations, times, thresholds = _prepare(score_arrays(scores, classes, frame_hop_s), ground_truth,
                                                            durations, classes, times_s, thresholds)
    settings = EvaluationSettings(
        classes=classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s,
        median_filter_frames=median_filter_frames(median_filter_s, frame_hop_s),
        thresholds=tuple(thresholds.tolist()), f1_threshold=f1_threshold, psds1=psds1, psds2=psds2,
        onset_collar_s=onset_collar_s, offset_collar_s=offset_collar_s, offset_collar_rate=offset_collar_rate,
        bootstrap=bootstrap, bootstrap_seed=bootstrap_seed,
        median_filter_frames_per_class=None if postprocess is None else postprocess.median_filter_frames,
        sebb=None if postprocess is None else postprocess.sebb,
        per_class_thresholds=None if postprocess is None else postprocess.thresholds,
        segment_length_s=segment_length_s, auroc_max_fpr=auroc_max_fpr,
        pipsds_filters_s=None if pipsds_filters_s is None else tuple(float(x) for x in pipsds_filters_s),
        pipsds_intervals=pipsds_intervals,
    )
    if postprocess is not None:
        postprocess.check_applicable(classes, durations, allow_tuning_set=allow_tuning_set, frame_hop_s=frame_hop_s)
    return evaluate(arrays, events, durations, settings, times_s=times, frames_per_block=frames_per_block, progress=progress,
                    jobs=jobs)


def evaluate(
    scores: Mapping[str, np.ndarray],
    events: pd.DataFrame,
    durations: Mapping[str, float],
    settings: EvaluationSettings,
    *,
    times_s: Mapping[str, np.ndarray] | None = None,
    frames_per_block: int = FRAMES_PER_BLOCK,
    progress: bool = False,
    jobs: int = 1,
) -> EvaluationResult:
    """Every metric of validated inputs (see :mod:`~tbfl.evaluation.validation`), classes a block at a time.

    Args:
        scores: clip id -> (C, n_frames) real scores in ``settings.classes`` order (read a block
            of classes at a time, as float64).
        events: reference events with columns clip_id, onset, offset, event_label (seconds).
        durations: clip id -> duration in seconds; the evaluation set.
        settings: thresholds, collars, PSDS scenarios, median filter(s), SEBBs, per-class thresholds.
        times_s: clip id -> (n_frames + 1,) frame boundaries (seconds); default ``i * settings.frame_hop_s``.
        frames_per_block, progress, jobs: as :func:`evaluate_scores`.
    """
    classes = settings.classes
    thresholds = np.asarray(settings.thresholds, dtype=np.float64)
    clip_ids = tuple(sorted(durations))
    duration_s = np.array([durations[c] for c in clip_ids])
    reference = GroundTruth.from_events(events, clip_ids, classes)
    metrics = evaluate_blocks(scores, reference, clip_ids, duration_s, settings, times_s=times_s,
                              frames_per_block=frames_per_block, progress=progress, jobs=jobs)
    psds = metrics.psds()
    sweep = metrics.event_f1_sweep()
    on_grid = np.isin(sweep.thresholds, thresholds)
    grid_sweep = FScoreSweep(classes, sweep.thresholds[on_grid], sweep.tp[on_grid], sweep.n_sys[on_grid], sweep.n_ref)
    per_class_thresholds = settings.per_class_thresholds
    resampled = metrics.resampled_values(jobs)
    pipsds_values, pipsds_resampled = pipsds(scores, reference, clip_ids, duration_s, settings, times_s, frames_per_block, jobs, metrics)
    resampled.update(pipsds_resampled)
    return EvaluationResult(
        psds1=psds["psds1"], psds1_threshold_free=psds["psds1_threshold_free"],
        psds2=psds["psds2"], psds2_threshold_free=psds["psds2_threshold_free"],
        event_f1=sweep.at(sweep.index_of(settings.f1_threshold)),
        event_f1_best=grid_sweep.best(),
        event_f1_best_per_class=grid_sweep.best_per_class(),
        event_f1_sweep=grid_sweep,
        intersection_f1=metrics.intersection_f1(),
        confidence_intervals={name: confidence_interval(values) for name, values in resampled.items()},
        resampled_values=resampled,
        event_f1_tuned_thresholds=None if per_class_thresholds is None else sweep.at(
            np.array([sweep.index_of(t) for t in per_class_thresholds])),
        n_clips=len(clip_ids), n_events=len(events), settings=settings,
        **metrics.more_metrics(),
        **pipsds_values,
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
    frames_per_block: int = PSDS_FRAMES_PER_BLOCK,
    time_decimals: int = 6,
    progress: bool = False,
    jobs: int = 1,
) -> dict[str, Psds]:
    """PSDS1 and PSDS2 of a large set, at ``thresholds`` and threshold-free: the values of :func:`evaluate_scores`.

    Returns ``{"psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free"}``.
    Arguments as :func:`evaluate_scores`, but ``scores`` must be arrays (clip id ->
    (C, n_frames), any real dtype; views into one (n_clips, C, n_frames) array
    are never copied whole). No F1, no bootstrap. ``jobs``: as :func:`evaluate_scores`.

    Classes are taken a block at a time by the loop of :func:`evaluate_scores`
    (:func:`~tbfl.evaluation.blocks.evaluate_blocks`), with larger blocks (about
    ``frames_per_block`` frames of all clips, held as float64 with a few
    byte-sized masks: about 0.5 GB at the default, on top of the scores):
    median filter, detection runs, intersection counts and each class's ROC,
    then the ROCs are combined. In each class, frames scoring at or below
    :func:`~tbfl.evaluation.metrics.intersection_based.efpr_floor` are not
    searched: every operating point there is beyond ``max_efpr``.
    """
    classes = tuple(classes)
    arrays, events, durations, times, thresholds = _prepare(score_views(scores, classes), ground_truth, durations,
                                                            classes, times_s, thresholds)
    settings = EvaluationSettings(
        classes=classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s,
        median_filter_frames=median_filter_frames(median_filter_s, frame_hop_s), thresholds=tuple(thresholds.tolist()),
        psds1=psds1, psds2=psds2, time_decimals=time_decimals,
    )
    clip_ids = tuple(sorted(durations))
    duration_s = np.array([durations[c] for c in clip_ids])
    reference = GroundTruth.from_events(events, clip_ids, classes)
    return evaluate_blocks(arrays, reference, clip_ids, duration_s, settings, times_s=times,
                           frames_per_block=frames_per_block, psds_only=True, progress=progress, jobs=jobs).psds()


def _prepare(
    arrays: Mapping[str, np.ndarray], ground_truth: Any, durations: Mapping[str, float], classes: tuple[str, ...],
    times_s: Mapping[str, np.ndarray] | None, thresholds: np.ndarray,
) -> tuple[Mapping[str, np.ndarray], pd.DataFrame, dict[str, float], dict[str, np.ndarray] | None, np.ndarray]:
    """The checked inputs of :func:`evaluate_scores` and :func:`evaluate_psds`: the score arrays (clip id ->
    (C, n_frames)), the reference events, durations and frame boundaries keyed by clip id, the sorted thresholds."""
    durations = {clip_id(str(name)): float(seconds) for name, seconds in durations.items()}
    check_durations(durations)
    times = None if times_s is None else {clip_id(str(name)): np.asarray(t, np.float64) for name, t in times_s.items()}
    events = reference_events(ground_truth, classes)
    check_clip_sets(set(arrays), set(events["clip_id"]) | listed_clips(ground_truth), set(durations))
    return arrays, events, durations, times, np.unique(np.asarray(thresholds, dtype=np.float64))


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
    inputs = read_evaluation_files(scores_dir, ground_truth_tsv, durations_tsv, classes, progress=progress)
    return evaluate_scores(
        inputs.scores, inputs.ground_truth, inputs.durations, inputs.classes, frame_hop_s=inputs.frame_hop_s,
        median_filter_s=median_filter_s, times_s=inputs.times_s, **options,
    )
