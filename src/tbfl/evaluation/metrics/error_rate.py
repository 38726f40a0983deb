"""Error rates from counts, as sed_scores_eval computes them.

Per class: insertion rate IR = FP / N_ref, deletion rate DR = FN / N_ref =
(N_ref - TP) / N_ref, error rate ER = IR + DR (sed_scores_eval's
``error_rate``: substitutions are not paired up across classes, unlike
sed_eval's segment-based ER). The macro values are means over the classes
with reference events; a class without any has no rate (NaN; sed_scores_eval
divides by zero there and its mean becomes inf or NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorRate:
    """Error, insertion and deletion rates per class ((C,), NaN without reference events) and their macro means."""

    classes: tuple[str, ...]
    threshold: float
    error_rate: np.ndarray
    insertion_rate: np.ndarray
    deletion_rate: np.ndarray
    error_rate_macro: float
    insertion_rate_macro: float
    deletion_rate_macro: float

    @classmethod
    def from_counts(cls, classes, threshold: float, tp, n_sys, n_ref) -> "ErrorRate":
        """Rates from (C,) true positives, outputs and references."""
        tp, n_sys, n_ref = (np.asarray(a, dtype=np.float64) for a in (tp, n_sys, n_ref))
        has_ref = n_ref > 0
        insertion = np.divide(n_sys - tp, n_ref, out=np.full(tp.shape, np.nan), where=has_ref)
        deletion = np.divide(n_ref - tp, n_ref, out=np.full(tp.shape, np.nan), where=has_ref)
        error = insertion + deletion
        return cls(tuple(classes), float(threshold), error, insertion, deletion,
                   *(float(rate[has_ref].mean()) if has_ref.any() else float("nan") for rate in (error, insertion, deletion)))

    def to_dict(self) -> dict:
        """JSON-safe: macro values, the threshold and per-class values (None for NaN)."""
        return {
            "error_rate": _json(self.error_rate_macro), "insertion_rate": _json(self.insertion_rate_macro),
            "deletion_rate": _json(self.deletion_rate_macro), "threshold": self.threshold,
            "per_class": {name: {"error_rate": _json(self.error_rate[c]), "insertion_rate": _json(self.insertion_rate[c]),
                                 "deletion_rate": _json(self.deletion_rate[c])} for c, name in enumerate(self.classes)},
        }


def _json(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
