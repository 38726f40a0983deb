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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tbfl.evaluation.metrics.intersection_based.intermediate_statistics import IntersectionCurves

SECONDS_PER_HOUR = 3600.0


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
    tp, fp, ct = curves.at(thresholds)
    points = [
        (np.append(tp[:, c], 0), np.append(fp[:, c], 0), np.vstack([ct[:, c], np.zeros(len(curves.classes))]))
        for c in range(len(curves.classes))
    ]
    return _psds(curves, points, dataset_duration_s, alpha_ct, alpha_st, max_efpr)


def psds_threshold_free(
    curves: IntersectionCurves, dataset_duration_s: float, *, alpha_ct: float, alpha_st: float, max_efpr: float,
) -> Psds:
    """PSDS from every operating point the scores allow (sed_scores_eval's computation)."""
    points = list(zip(curves.tp, curves.fp, curves.ct))
    return _psds(curves, points, dataset_duration_s, alpha_ct, alpha_st, max_efpr)


def _psds(curves, points, dataset_duration_s, alpha_ct, alpha_st, max_efpr) -> Psds:
    has_ref = curves.n_ref > 0
    rocs = []
    for c, (tp, fp, ct) in enumerate(points):
        others = has_ref & (np.arange(len(has_ref)) != c)
        ct_rate = ct[:, others] / curves.ref_length_s[others] if others.any() else np.zeros((len(tp), 1))
        efpr = (fp / dataset_duration_s + alpha_ct * ct_rate.mean(axis=1)) * SECONDS_PER_HOUR
        rocs.append(_staircase(tp / max(curves.n_ref[c], 1), efpr, max_efpr))
    per_class = np.array([_area(tpr, efpr, max_efpr) / max_efpr for tpr, efpr in rocs]) * has_ref
    included = [roc for roc, keep in zip(rocs, has_ref) if keep]
    class_rocs = tuple((efpr, tpr) for tpr, efpr in rocs)
    if not included:
        return Psds(curves.classes, 0.0, per_class, np.array([0.0, max_efpr]), np.zeros(2), class_rocs)
    efpr = np.unique(np.concatenate([x for _, x in included]))
    tpr = np.stack([y[np.searchsorted(x, efpr, side="right") - 1] for y, x in included])
    etpr = np.maximum(tpr.mean(axis=0) - alpha_st * tpr.std(axis=0), 0.0)
    return Psds(curves.classes, float(_area(etpr, efpr, max_efpr) / max_efpr), per_class, efpr, etpr, class_rocs)


def _staircase(tpr: np.ndarray, efpr: np.ndarray, max_efpr: float) -> tuple[np.ndarray, np.ndarray]:
    """ROC points (tpr, efpr) sorted by eFPR, each with the best TPR at or below its eFPR, cut at ``max_efpr``.

    Always starts at eFPR 0 (the all-off point is among the inputs).
    """
    order = np.lexsort((tpr, efpr))
    tpr, efpr = np.maximum.accumulate(tpr[order]), efpr[order]
    last = np.append(efpr[1:] != efpr[:-1], True)
    keep = last & (efpr <= max_efpr)
    return tpr[keep], efpr[keep]


def _area(y: np.ndarray, x: np.ndarray, max_x: float) -> float:
    """Area under the staircase through (x, y) (x ascending, starting at 0) up to ``max_x``."""
    widths = np.diff(np.append(x, max_x))
    return float(np.sum(y * widths))
