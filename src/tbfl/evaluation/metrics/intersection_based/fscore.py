"""Intersection-based F-score at fixed thresholds (psds_eval's ``compute_macro_f_score``).

TP counts detected reference events (GTC), FP counts irrelevant detections
(DTC; cross-triggers are FPs too), FN = N_ref - TP, so
F1 = 2 TP / (2 TP + FP + FN). Averaging follows :mod:`tbfl.evaluation.metrics.fscore`:
a class without TP scores 0 and stays in the macro mean (psds_eval gives it
NaN and drops it; sed_scores_eval gives 0 as here).
"""

from __future__ import annotations

import numpy as np

from tbfl.evaluation.metrics.fscore import FScore
from tbfl.evaluation.metrics.intersection_based.intermediate_statistics import IntersectionCurves


def intersection_fscore(curves: IntersectionCurves, threshold: float | np.ndarray) -> FScore:
    """Scores at one threshold, or one threshold per class ((C,) array)."""
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (len(curves.classes),))
    if np.any(thresholds < curves.floor):
        raise ValueError("intersection F1 below the floor of the counts (they were computed for PSDS only)")
    classes = np.arange(len(curves.classes))
    tp, fp, _ = curves.at(thresholds)
    tp, fp = tp[classes, classes], fp[classes, classes]
    return FScore.from_counts(curves.classes, thresholds, tp, tp + fp, curves.n_ref)
