"""Area under the ROC curve of binary items (segments, clips), with sed_scores_eval's staircase rule.

Per class, each threshold t gives TPR = TP / N_pos and FPR = FP / N_neg over
the items scoring above t. The ROC runs through every such point from
(0, 0) (no item) to (1, 1) (every item); sorted by FPR, then TPR, each point's
TPR holds until the next FPR (a staircase: items of both kinds at one score
count at the lower TPR). AUROC is the area under it; with ``max_fpr`` it is
the area up to ``max_fpr`` divided by ``max_fpr``, the partial AUROC of
sed_scores_eval ``auroc(..., max_fpr=...)``, without McClish's correction
(DCASE 2024's MAESTRO task averages it over classes with ``max_fpr = 0.1``).
A class without positive or without negative items has no ROC (NaN) and is
left out of the mean (sed_scores_eval's mean becomes NaN then).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Auroc:
    """Per-class (C,) AUROC (NaN where undefined) and their mean; ``max_fpr`` None for the full area."""

    classes: tuple[str, ...]
    max_fpr: float | None
    per_class: np.ndarray
    mean: float

    @classmethod
    def from_values(cls, classes, max_fpr, per_class) -> "Auroc":
        per_class = np.asarray(per_class, dtype=np.float64)
        defined = ~np.isnan(per_class)
        return cls(tuple(classes), max_fpr, per_class, float(per_class[defined].mean()) if defined.any() else float("nan"))

    def to_dict(self) -> dict:
        return {"value": None if np.isnan(self.mean) else self.mean, "max_fpr": self.max_fpr,
                "per_class": {name: None if np.isnan(v) else float(v) for name, v in zip(self.classes, self.per_class)}}


def staircase_auroc(tp: np.ndarray, fp: np.ndarray, n_pos: float, n_neg: float, max_fpr: float | None = None) -> float:
    """AUROC from the (m,) cumulative TP and FP counts at descending thresholds (each including the all-off
    point 0, 0 and ending at every item: ``tp[-1] == n_pos``, ``fp[-1] == n_neg``); NaN without positives or negatives."""
    if n_pos <= 0 or n_neg <= 0:
        return float("nan")
    tpr, fpr = np.asarray(tp, np.float64) / n_pos, np.asarray(fp, np.float64) / n_neg
    order = np.lexsort((tpr, fpr))
    tpr, fpr = tpr[order], fpr[order]
    end = 1.0 if max_fpr is None else max_fpr
    inside = fpr <= end
    widths = np.diff(np.append(fpr[inside], end))
    return float(np.sum(tpr[inside] * widths) / end)
