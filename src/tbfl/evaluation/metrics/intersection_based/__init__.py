"""Intersection-based F-score and PSDS (Bilen et al., ICASSP 2020)."""

from tbfl.evaluation.metrics.intersection_based.fscore import intersection_fscore
from tbfl.evaluation.metrics.intersection_based.intermediate_statistics import (
    IntersectionChanges, IntersectionCurves, intersection_changes, intersection_curves,
)
from tbfl.evaluation.metrics.intersection_based.pipsds import (
    merge_class_rocs, merge_resampled_class_rocs, postprocessing_independent_psds,
)
from tbfl.evaluation.metrics.intersection_based.psds import (
    Psds, class_rocs, efpr_floor, psds_at_thresholds, psds_from_rocs, psds_threshold_free, resampled_class_rocs,
)

__all__ = [
    "IntersectionChanges", "IntersectionCurves", "Psds", "class_rocs", "efpr_floor", "intersection_changes",
    "intersection_curves", "intersection_fscore", "merge_class_rocs", "merge_resampled_class_rocs",
    "postprocessing_independent_psds", "psds_at_thresholds",
    "psds_from_rocs", "psds_threshold_free", "resampled_class_rocs",
]
