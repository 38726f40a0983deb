"""Collar-based (event-based) F-score, as sed_eval's ``EventBasedMetrics``."""

from tbfl.evaluation.metrics.collar_based.intermediate_statistics import CollarClipCounts, collar_clip_counts, collar_counts

__all__ = ["CollarClipCounts", "collar_clip_counts", "collar_counts"]
