"""Polyphonic Sound Detection Score (PSDS) from intersection-based counts.

Per class, each operating point gives TPR = TP / N_ref and the effective FP
rate per hour, eFPR = FP / T + alpha_ct * mean_j(CT_j / T_j) (T: total
duration of the evaluated clips, T_j: total length of class j's reference
events). The class ROC keeps, at each eFPR, the best TPR reached at or below
it (a staircase). The PSD-ROC is mean - alpha_st * std (population std) of the
class ROCs on the union of their eFPR points, floored at 0, and PSDS is its
area up to ``max_efpr`` divided by ``max_efpr``.

Two sets of operating points:

- :func:`psds_at_thresholds`: fixed thresholds (the DCASE 2021 baseline's 50,
  0.01 ... 0.99) plus the all-off point, what psds_eval computes from the
  detections at those thresholds (psds_eval compares float ratios: a run whose
  overlap is exactly on the DTC/GTC can be lost there and is counted here, see
  :mod:`.intermediate_statistics`; on a DESED-sized case this moved PSDS1 by 4e-4);
- :func:`psds_threshold_free`: every threshold where a count changes, the
  exact value of sed_scores_eval's ``intersection_based.psds``.

Per-class PSDS is the area under one class's ROC up to ``max_efpr`` divided
by ``max_efpr`` (sed_scores_eval's ``single_class_psds``; psds_eval has no
per-class value). Classes without reference events are left out of the
PSD-ROC and the cross-trigger mean (psds_eval does not know them; sed_scores_eval
refuses them) and get per-class PSDS 0.

The work splits in two, so that classes can be handled a block at a time:
:func:`class_rocs` turns each class's counts into its ROC staircase, kept only
where its TPR rises (the same step function in at most N_ref + 1 points), and
:func:`psds_from_rocs` combines them. Operating points whose eFPR exceeds
``max_efpr`` never change the value (the staircase only carries TPR to higher
eFPR), which :func:`efpr_floor` turns into a score below which nothing needs
to be computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tbfl.evaluation.metrics.intersection_based.intermediate_statistics import IntersectionCurves, ResampledCurve

SECONDS_PER_HOUR = 3600.0
#: eFPR points of the PSD-ROC handled at once when the class ROCs are combined (bounds memory).
_POINTS_PER_BLOCK = 1 << 14


@dataclass(frozen=True)
class Psds:
    """A PSDS value with its per-class values and its PSD-ROC (``efpr`` per hour, ``etpr``).

    ``class_rocs[c]`` is class c's ROC staircase ``(efpr, tpr)``, cut at ``max_efpr``.
    """

    classes: tuple[str, ...]
    value: float
    per_class: np.ndarray
    efpr: np.ndarray
    etpr: np.ndarray
    class_rocs: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    def to_dict(self) -> dict:
        return {"value": self.value, "per_class": {name: float(v) for name, v in zip(self.classes, self.per_class)}}


def psds_at_thresholds(
    curves: IntersectionCurves, thresholds: np.ndarray, dataset_duration_s: float,
    *, alpha_ct: float, alpha_st: float, max_efpr: float,
) -> Psds:
    """PSDS from the operating points at ``thresholds`` (psds_eval's computation)."""
    rocs = class_rocs(curves, dataset_duration_s, alpha_ct=alpha_ct, max_efpr=max_efpr, thresholds=thresholds)
    return psds_from_rocs(curves.classes, rocs, curves.n_ref, alpha_st=alpha_st, max_efpr=max_efpr)


def psds_threshold_free(
    curves: IntersectionCurves, dataset_duration_s: float, *, alpha_ct: float, alpha_st: float, max_efpr: float,
) -> Psds:
    """PSDS from every operating point the scores allow (sed_scores_eval's computation)."""
    rocs = class_rocs(curves, dataset_duration_s, alpha_ct=alpha_ct, max_efpr=max_efpr)
    return psds_from_rocs(curves.classes, rocs, curves.n_ref, alpha_st=alpha_st, max_efpr=max_efpr)


def class_rocs(
    curves: IntersectionCurves, dataset_duration_s: float, *, alpha_ct: float, max_efpr: float,
    thresholds: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each class's ROC staircase ``(efpr, tpr)`` (eFPR per hour), from every operating point or from ``thresholds``.

    At ``thresholds``, the all-off point is added and thresholds below a
    class's floor are left out (their eFPR exceeds ``max_efpr``, see :func:`efpr_floor`).
    """
    if thresholds is not None:
        thresholds = np.asarray(thresholds, dtype=np.float64)
        tp_at, fp_at, ct_at = curves.at(thresholds)
    rocs = []
    for c in range(len(curves.classes)):
        if thresholds is None:
            tp, fp, ct_rate = curves.tp[c], curves.fp[c], curves.ct_rate[c]
        else:
            valid = thresholds >= curves.floor[c]
            tp, fp, ct_rate = (np.append(values[valid, c], 0) for values in (tp_at, fp_at, ct_at))
        efpr = (fp / dataset_duration_s + alpha_ct * ct_rate) * SECONDS_PER_HOUR
        rocs.append(staircase(tp / max(curves.n_ref[c], 1), efpr, max_efpr))
    return rocs


def psds_from_rocs(
    classes: tuple[str, ...], rocs: list[tuple[np.ndarray, np.ndarray]], n_ref: np.ndarray,
    *, alpha_st: float, max_efpr: float,
) -> Psds:
    """PSDS, per-class PSDS and PSD-ROC from the class ROCs of :func:`class_rocs` (classes without events left out)."""
    has_ref = np.asarray(n_ref) > 0
    per_class = np.array([_area(tpr, efpr, max_efpr) / max_efpr for efpr, tpr in rocs]) * has_ref
    included = [roc for roc, keep in zip(rocs, has_ref) if keep]
    if not included:
        return Psds(tuple(classes), 0.0, per_class, np.array([0.0, max_efpr]), np.zeros(2), tuple(rocs))
    efpr = np.unique(np.concatenate([x for x, _ in included]))
    etpr = np.empty(len(efpr))
    for start in range(0, len(efpr), _POINTS_PER_BLOCK):
        points = efpr[start : start + _POINTS_PER_BLOCK]
        tpr = np.stack([y[np.searchsorted(x, points, side="right") - 1] for x, y in included])
        etpr[start : start + len(points)] = np.maximum(tpr.mean(axis=0) - alpha_st * tpr.std(axis=0), 0.0)
    return Psds(tuple(classes), float(_area(etpr, efpr, max_efpr) / max_efpr), per_class, efpr, etpr, tuple(rocs))


def efpr_floor(
    row_max: np.ndarray, row_has_events: np.ndarray, dataset_duration_s: float, max_efpr: float,
    *, clip_weights: np.ndarray | None = None, clip_duration_s: np.ndarray | None = None,
) -> np.ndarray:
    """Per class, a score below which every operating point has eFPR > ``max_efpr`` (``-inf`` if none is known).

    ``row_max`` (n_clips, C) is each clip's highest score of each class (over the
    frames inside the clip), ``row_has_events`` (n_clips, C) whether the clip has
    reference events of the class. A clip without events of class c whose
    highest score exceeds a threshold t has at least one detection at t, and an
    irrelevant one (any DTC > 0): it is a false positive. With
    ``n = floor(max_efpr * T / 3600) + 1`` such clips, FP >= n gives
    eFPR >= FP / T * 3600 > max_efpr whatever the cross-triggers add. So at
    every threshold below the n-th highest ``row_max`` of those clips, the
    operating point lies beyond ``max_efpr`` and cannot change PSDS: the
    floor. (A relative margin of 1e-9 keeps the comparison safe in floats.)

    ``clip_weights`` (n_resamples, n_clips), with ``clip_duration_s`` (n_clips,):
    a floor that holds for the evaluated clips and for every resample (each clip
    counted ``weight`` times, T the weighted duration), the lowest of their floors.
    """
    floor = _floor_of(row_max, row_has_events, dataset_duration_s, max_efpr)
    if clip_weights is None:
        return floor
    candidates = np.where(row_has_events, -np.inf, row_max)
    needed = np.floor(max_efpr * (np.asarray(clip_weights) @ clip_duration_s) / SECONDS_PER_HOUR * (1 + 1e-9)).astype(np.int64) + 1
    clip_weights = np.asarray(clip_weights, dtype=np.int32)  # draws per clip: sums stay below n_clips
    for c in range(candidates.shape[1]):
        order = np.argsort(-candidates[:, c], kind="stable")
        drawn = np.cumsum(clip_weights[:, order], axis=1, dtype=np.int32)  # clips counted at or above each candidate
        enough = drawn[:, -1] >= needed
        nth = np.argmax(drawn >= needed[:, None], axis=1)
        resample_floor = np.where(enough, candidates[order, c][nth], -np.inf)
        floor[c] = min(floor[c], resample_floor.min(initial=np.inf))
    return floor


def _floor_of(row_max, row_has_events, dataset_duration_s, max_efpr):
    needed = math.floor(max_efpr * dataset_duration_s / SECONDS_PER_HOUR * (1 + 1e-9)) + 1
    candidates = np.where(row_has_events, -np.inf, row_max)
    if needed > len(candidates):
        return np.full(candidates.shape[1], -np.inf)
    return -np.partition(-candidates, needed - 1, axis=0)[needed - 1]


def staircase(tpr: np.ndarray, efpr: np.ndarray, max_efpr: float) -> tuple[np.ndarray, np.ndarray]:
    """ROC ``(efpr, tpr)`` sorted by eFPR, each with the best TPR at or below its eFPR, cut at ``max_efpr``.

    Only the points where the TPR rises are kept (the same step function).
    Always starts at eFPR 0 (the all-off point is among the inputs).
    """
    return staircases(np.asarray(tpr)[None], np.asarray(efpr)[None], max_efpr)[0]


def staircases(tpr: np.ndarray, efpr: np.ndarray, max_efpr: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`staircase` of each row of ``tpr`` and ``efpr`` (R, n): R ROCs, sorted row by row at once.

    Any order of the points gives the same ROC; rows in ascending-threshold order (eFPR mostly falling, as the
    curves hold them) sort fastest: they are sorted from their end, where the merge sort finds long runs.
    """
    # Points beyond max_efpr in every row change no ROC (they sort after every kept point): left out before sorting.
    useful = (efpr <= max_efpr).any(axis=0)
    efpr, tpr = efpr[:, useful], tpr[:, useful]
    n = efpr.shape[1]
    order = n - 1 - np.argsort(efpr[:, ::-1], axis=1, kind="stable")
    efpr = np.take_along_axis(efpr, order, axis=1)
    tpr = np.maximum.accumulate(np.take_along_axis(tpr, order, axis=1), axis=1)
    # Each eFPR keeps the best TPR of its group (its last, after the running maximum), if it rises above the
    # previous group's (the point just before the group starts).
    new = np.ones(efpr.shape, dtype=bool)
    new[:, 1:] = efpr[:, 1:] != efpr[:, :-1]
    last = np.ones(efpr.shape, dtype=bool)
    last[:, :-1] = new[:, 1:]
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0), axis=1)
    before = np.where(start > 0, np.take_along_axis(tpr, np.maximum(start - 1, 0), axis=1), -np.inf)
    keep = last & (efpr <= max_efpr) & (tpr > before)
    ends = np.cumsum(keep.sum(axis=1))[:-1]
    return list(zip(np.split(efpr[keep], ends), np.split(tpr[keep], ends)))


def resampled_class_rocs(
    curve: ResampledCurve, dataset_duration_s: np.ndarray, *, alpha_ct: float, max_efpr: float,
    thresholds: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One class's ROC staircase on each resample (:func:`class_rocs` of its curve; ``dataset_duration_s`` (R,))."""
    tp, fp, ct_rate = curve.tp, curve.fp, curve.ct_rate
    if thresholds is not None:
        thresholds = np.asarray(thresholds, dtype=np.float64)
        at = np.searchsorted(curve.change_points, thresholds[thresholds >= curve.floor], side="right")
        tp, fp, ct_rate = (np.concatenate([values[:, at], np.zeros((len(values), 1), values.dtype)], axis=1)
                           for values in (tp, fp, ct_rate))
    efpr = (fp / dataset_duration_s[:, None] + alpha_ct * ct_rate) * SECONDS_PER_HOUR
    return staircases(tp / np.maximum(curve.n_ref, 1)[:, None], efpr, max_efpr)


def _area(y: np.ndarray, x: np.ndarray, max_x: float) -> float:
    """Area under the staircase through (x, y) (x ascending, starting at 0) up to ``max_x``."""
    widths = np.diff(np.append(x, max_x))
    return float(np.sum(y * widths))
