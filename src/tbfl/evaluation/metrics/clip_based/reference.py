"""The established implementation on the same input: sed_scores_eval 0.0.4's ``clip_based`` (tagging).

For tests and benchmarks only (sed_scores_eval is a test extra).
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_inputs
from tbfl.evaluation.metrics.segment_based.reference import _named


def sed_scores_eval_clip_based(
    scores: Mapping[str, np.ndarray], ground_truth: pd.DataFrame, classes: Iterable[str], frame_hop_s: float,
    *, threshold: float, max_fpr: float | None = None,
) -> dict[str, dict[str, float]]:
    """sed_scores_eval's clip-based F1, precision, recall, error rate and AUROC; layout as
    :func:`~tbfl.evaluation.metrics.segment_based.reference.sed_scores_eval_segment_based`."""
    from sed_scores_eval import clip_based

    classes = list(classes)
    score_tables, events = sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s)
    tags = {clip: sorted({label for *_, label in clip_events}) for clip, clip_events in events.items()}
    result = {}
    if all(any(name in clip_tags for clip_tags in tags.values()) for name in classes):
        f1, precision, recall, _ = clip_based.fscore(score_tables, tags, threshold=threshold)
        error_rate, *_ = clip_based.error_rate(score_tables, tags, threshold=threshold)
        for name, values in (("f1", f1), ("precision", precision), ("recall", recall), ("error_rate", error_rate)):
            result[name] = _named(values, classes, "macro_average")
    auroc, _ = clip_based.auroc(score_tables, tags, max_fpr=max_fpr)
    result["auroc"] = _named(auroc, classes, "mean")
    return result
