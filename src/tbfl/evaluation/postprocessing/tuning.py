"""Tuned post-processing, picked per class on a tuning set and stored in one parameter file.

Three things can be tuned, each as the per-class best of a small grid:

- a median filter length per class (:func:`tune_median_filters`);
- SEBB hyper-parameters per class (:func:`tune_sebbs`; step filter length and
  the two merge thresholds of :mod:`~tbfl.evaluation.postprocessing.sebb`);
- on top of either, a decision threshold per class, the operating point with
  the best collar-based (event) F1 of that class (:func:`tune_thresholds`).

Candidates are scored by evaluating the tuning set exactly as
:func:`~tbfl.evaluation.evaluate.evaluate_scores` later applies the stored
parameters; the result is a :class:`~tbfl.evaluation.postprocessing.params.PostprocessParams`
(the parameter file and its application live there, so that detection does not depend on the search).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Iterable, Mapping

import numpy as np

from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.postprocessing.frames import median_filter_frames
from tbfl.evaluation.postprocessing.params import PostprocessParams
from tbfl.evaluation.postprocessing.sebb import SebbParams, step_filter_frames

#: Candidate median filter lengths in seconds (0: no filter).
DEFAULT_CANDIDATES_S = (0.0, 0.15, 0.3, 0.45, 0.6, 0.9, 1.2)
#: SEBB grid: the values the ``sebbs`` package documentation tunes over (step filter lengths in seconds).
DEFAULT_STEP_FILTERS_S = (0.32, 0.48, 0.64)
DEFAULT_MERGE_THRESHOLDS_ABS = (0.15, 0.2, 0.3)
DEFAULT_MERGE_THRESHOLDS_REL = (1.5, 2.0, 3.0)
#: Per-class metrics a setting can be tuned for (keys of ``EvaluationResult.to_dict()["details"]``).
METRICS = ("psds1_threshold_free", "psds2_threshold_free", "psds1", "psds2", "event_f1_best_per_class", "intersection_f1")


def _per_class(result, metric: str) -> dict[str, float]:
    """class -> that class's value of ``metric`` in an evaluation result."""
    per_class = result.to_dict()["details"][metric]["per_class"]
    return {name: v["f1"] if isinstance(v, dict) else v for name, v in per_class.items()}


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown tuning metric {metric!r}; one of {', '.join(METRICS)}")


def _clip_ids(durations: Mapping[str, float]) -> tuple[str, ...]:
    return tuple(sorted(str(c).removesuffix(".wav") for c in durations))


def tune_median_filters(
    scores: Mapping[str, np.ndarray], ground_truth, durations: Mapping[str, float], classes: tuple[str, ...],
    *, frame_hop_s: float, times_s: Mapping[str, np.ndarray] | None = None,
    candidates_s: Iterable[float] = DEFAULT_CANDIDATES_S, metric: str = "psds1_threshold_free",
) -> tuple[PostprocessParams, dict[float, dict[str, float]]]:
    """Per class, the candidate length with the highest per-class ``metric`` on this tuning set.

    Returns the parameters and, per candidate length (s), the per-class values.
    Ties go to the shorter filter.
    """
    _check_metric(metric)
    candidates_s = sorted(set(float(c) for c in candidates_s))
    values, frames = {}, []
    for length_s in candidates_s:
        result = evaluate_scores(scores, ground_truth, durations, classes, frame_hop_s=frame_hop_s,
                                 median_filter_s=length_s, times_s=times_s)
        values[length_s] = _per_class(result, metric)
        frames.append(result.settings.median_filter_frames)
    table = np.array([[values[length_s][name] for name in classes] for length_s in candidates_s])
    best = table.argmax(axis=0)  # first maximum: the shortest filter
    params = PostprocessParams(tuple(classes), tuple(int(frames[i]) for i in best), float(frame_hop_s), metric,
                               _clip_ids(durations))
    return params, values


def sebb_grid(
    frame_hop_s: float, step_filters_s: Iterable[float] = DEFAULT_STEP_FILTERS_S,
    merge_thresholds_abs: Iterable[float] = DEFAULT_MERGE_THRESHOLDS_ABS,
    merge_thresholds_rel: Iterable[float] = DEFAULT_MERGE_THRESHOLDS_REL, confidence: str = "mean",
    either_abs_or_rel: bool = True,
) -> list[SebbParams]:
    """The SEBB settings to tune over, per step filter length (ascending, duplicates once).

    ``either_abs_or_rel`` (the ``sebbs`` package's default): each absolute merge threshold with the
    relative test off (rel = inf), then each relative one with the absolute test off (abs = inf).
    Otherwise every (abs, rel) combination, both tests on.
    """
    steps = sorted(set(step_filter_frames(s, frame_hop_s) for s in step_filters_s))
    absolute, relative = sorted(set(map(float, merge_thresholds_abs))), sorted(set(map(float, merge_thresholds_rel)))
    if either_abs_or_rel:
        merges = [(a, math.inf) for a in absolute] + [(math.inf, r) for r in relative]
    else:
        merges = list(itertools.product(absolute, relative))
    return [SebbParams(n, a, r, confidence) for n in steps for a, r in merges]


def tune_sebbs(
    scores: Mapping[str, np.ndarray], ground_truth, durations: Mapping[str, float], classes: tuple[str, ...],
    *, frame_hop_s: float, times_s: Mapping[str, np.ndarray] | None = None,
    step_filters_s: Iterable[float] = DEFAULT_STEP_FILTERS_S,
    merge_thresholds_abs: Iterable[float] = DEFAULT_MERGE_THRESHOLDS_ABS,
    merge_thresholds_rel: Iterable[float] = DEFAULT_MERGE_THRESHOLDS_REL,
    median_filter_s: float = 0.0, confidence: str = "mean", metric: str = "psds1_threshold_free",
    either_abs_or_rel: bool = True,
) -> tuple[PostprocessParams, dict[SebbParams, dict[str, float]]]:
    """Per class, the SEBB setting of the grid (:func:`sebb_grid`) with the highest per-class ``metric``.

    Every class is smoothed by the same median filter (``median_filter_s``,
    0: none) before the step filter. A class's value depends only on its own
    SEBBs, so one evaluation per grid point scores every class. Returns the
    parameters and, per grid point, the per-class values. Ties go to the
    earlier grid point (shorter step filter, then the grid's order).
    """
    _check_metric(metric)
    smoothing = (median_filter_frames(median_filter_s, frame_hop_s),) * len(classes)
    grid = sebb_grid(frame_hop_s, step_filters_s, merge_thresholds_abs, merge_thresholds_rel, confidence, either_abs_or_rel)
    values = {}
    for point in grid:
        candidate = PostprocessParams(tuple(classes), smoothing, float(frame_hop_s), metric, (), sebb=(point,) * len(classes))
        result = evaluate_scores(scores, ground_truth, durations, classes, frame_hop_s=frame_hop_s, times_s=times_s,
                                 postprocess=candidate)
        values[point] = _per_class(result, metric)
    table = np.array([[values[point][name] for name in classes] for point in grid])
    best = table.argmax(axis=0)
    params = PostprocessParams(tuple(classes), smoothing, float(frame_hop_s), metric, _clip_ids(durations),
                               sebb=tuple(grid[i] for i in best))
    return params, values


def tune_thresholds(
    params: PostprocessParams, scores: Mapping[str, np.ndarray], ground_truth, durations: Mapping[str, float],
    *, times_s: Mapping[str, np.ndarray] | None = None, thresholds: np.ndarray | None = None,
):
    """``params`` with a decision threshold per class: the operating point with that class's best event F1.

    The tuning set is post-processed with ``params`` (its clips must be
    ``params``' tuning clips or others); the candidates are the evaluation's
    operating points (default the 50 of :data:`~tbfl.evaluation.settings.DEFAULT_THRESHOLDS`),
    the lowest wins on ties. Returns the new parameters and the tuning set's
    per-class F-score at those thresholds (an ``FScore``).
    """
    options = {} if thresholds is None else {"thresholds": thresholds}
    result = evaluate_scores(scores, ground_truth, durations, params.classes, frame_hop_s=params.frame_hop_s,
                             times_s=times_s, postprocess=params, allow_tuning_set=True, **options)
    best = result.event_f1_best_per_class
    return dataclasses.replace(params, thresholds=tuple(float(t) for t in best.thresholds)), best
