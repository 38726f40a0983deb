"""Segment-based F1, error rate and AUROC (sed_scores_eval's ``segment_based``)."""

from tbfl.evaluation.metrics.segment_based.intermediate_statistics import Segments

__all__ = ["Segments"]
