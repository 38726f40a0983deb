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


def staircase_auroc(tp: np.ndarray, fp: np.ndarray, n_pos: np.ndarray, n_neg: np.ndarray, max_fpr: float | None = None) -> np.ndarray:
    """AUROC of each column of the (m, R) cumulative TP and FP counts at descending thresholds, with (R,) ``n_pos`` and
    ``n_neg`` positives and negatives; (R,), NaN for a column without positives or negatives.

    The counts only grow down a column, so the points are already sorted by FPR, then TPR; the area is the sum of
    each point's TPR times the FPR step to the next point (the last to ``max_fpr``), with FPRs cut at ``max_fpr``.
    The all-off point (0, 0) adds nothing and is not needed, nor are the points after the first one at or beyond
    ``max_fpr`` in every column (the rows may stop there).
    """
    n_pos, n_neg = np.asarray(n_pos, np.float64), np.asarray(n_neg, np.float64)
    defined = (n_pos > 0) & (n_neg > 0)
    end = 1.0 if max_fpr is None else max_fpr
    tpr = np.asarray(tp, np.float64) / np.where(defined, n_pos, 1)
    cut = np.minimum(np.asarray(fp, np.float64) / np.where(defined, n_neg, 1), end)
    widths = np.diff(cut, axis=0, append=np.full((1, cut.shape[1]), end))
    return np.where(defined, np.sum(tpr * widths, axis=0) / end, np.nan)
