"""F-scores from counts, with the averaging rules of sed_eval.

Per class: precision = TP / (TP + FP) (0 without output, sed_eval's
``empty_system_output_handling='zero_score'``), recall = TP / N_ref, and
F1 = 2PR / (P + R), 0 when P + R = 0 (a class with no true positive scores 0,
never NaN). A class with no reference event has no recall; it reports recall
and F1 0 but is left out of the macro F1 and macro recall (sed_eval's
``nanmean``), while its precision (0 if it output anything) counts in the
macro precision, as in sed_eval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FScore:
    """Macro and per-class scores at one operating point (one threshold per class).

    Per-class arrays are (C,) in the order of ``classes``.
    """

    classes: tuple[str, ...]
    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    f1: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1_macro: float
    precision_macro: float
    recall_macro: float

    @classmethod
    def from_counts(cls, classes, thresholds, tp, n_sys, n_ref) -> "FScore":
        """Scores from (C,) true positives, outputs and references."""
        tp, n_sys, n_ref = (np.asarray(a, dtype=np.int64) for a in (tp, n_sys, n_ref))
        f1, precision, recall = precision_recall_f1(tp, n_sys, n_ref)
        has_ref = n_ref > 0
        return cls(
            tuple(classes), np.broadcast_to(np.asarray(thresholds, dtype=np.float64), tp.shape).copy(),
            tp, n_sys - tp, n_ref - tp, f1, precision, recall,
            float(f1[has_ref].mean()) if has_ref.any() else 0.0,
            float(precision.mean()),
            float(recall[has_ref].mean()) if has_ref.any() else 0.0,
        )

    def to_dict(self) -> dict:
        """JSON-safe: macro values, the threshold(s), and per-class values."""
        thresholds = [float(t) for t in self.thresholds]
        return {
            "f1": self.f1_macro,
            "precision": self.precision_macro,
            "recall": self.recall_macro,
            "threshold": thresholds[0] if len(set(thresholds)) == 1 else dict(zip(self.classes, thresholds)),
            "per_class": {
                name: {
                    "f1": float(self.f1[c]), "precision": float(self.precision[c]), "recall": float(self.recall[c]),
                    "tp": int(self.tp[c]), "fp": int(self.fp[c]), "fn": int(self.fn[c]),
                    "threshold": thresholds[c],
                }
                for c, name in enumerate(self.classes)
            },
        }


def precision_recall_f1(tp: np.ndarray, n_sys: np.ndarray, n_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element-wise (F1, precision, recall) from counts of any matching shape; never NaN."""
    precision = np.divide(tp, n_sys, out=np.zeros(np.shape(tp)), where=n_sys > 0)
    recall = np.divide(tp, n_ref, out=np.zeros(np.shape(tp)), where=n_ref > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(np.shape(tp)), where=total > 0)
    return f1, precision, recall


@dataclass(frozen=True)
class FScoreSweep:
    """Counts at K ascending thresholds: (K, C) ``tp`` and ``n_sys``, (C,) ``n_ref``."""

    classes: tuple[str, ...]
    thresholds: np.ndarray
    tp: np.ndarray
    n_sys: np.ndarray
    n_ref: np.ndarray

    def at(self, k: int | np.ndarray) -> FScore:
        """Scores at threshold index ``k``, or at one index per class ((C,) array)."""
        k = np.broadcast_to(np.asarray(k), (len(self.classes),))
        c = np.arange(len(self.classes))
        return FScore.from_counts(self.classes, self.thresholds[k], self.tp[k, c], self.n_sys[k, c], self.n_ref)

    def index_of(self, threshold: float) -> int:
        """Index of ``threshold`` among the swept thresholds (ValueError if absent)."""
        matches = np.flatnonzero(np.isclose(self.thresholds, threshold, rtol=0, atol=1e-12))
        if len(matches) == 0:
            raise ValueError(f"threshold {threshold} was not swept; swept: {self.thresholds.tolist()}")
        return int(matches[0])

    def f1(self) -> np.ndarray:
        """(K, C) per-class F1 at every threshold."""
        return precision_recall_f1(self.tp, self.n_sys, self.n_ref[None, :])[0]

    def f1_macro(self) -> np.ndarray:
        """(K,) macro F1 at every threshold."""
        has_ref = self.n_ref > 0
        return self.f1()[:, has_ref].mean(axis=1) if has_ref.any() else np.zeros(len(self.thresholds))

    def best(self) -> FScore:
        """The single threshold with the highest macro F1 (the lowest such threshold on ties)."""
        return self.at(int(np.argmax(self.f1_macro())))

    def best_per_class(self) -> FScore:
        """Each class at its own best threshold (the lowest on ties); macro over those."""
        return self.at(np.argmax(self.f1(), axis=0))
