"""Clip-based (tagging) F1, error rate and AUROC (sed_scores_eval's ``clip_based``)."""

from tbfl.evaluation.metrics.clip_based.intermediate_statistics import clip_scores, clip_statistics

__all__ = ["clip_scores", "clip_statistics"]
