"""Collar-based (event-based) F-score, as sed_eval's ``EventBasedMetrics``."""

from tbfl.evaluation.metrics.collar_based.intermediate_statistics import collar_counts

__all__ = ["collar_counts"]
