"""The established implementation on the same input: sed_scores_eval 0.0.4's ``segment_based``.

For tests and benchmarks only (sed_scores_eval is a test extra). Scores are
(C, n_frames) arrays on a regular grid of ``frame_hop_s``.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_inputs
from tbfl.evaluation.scores import clip_id


def sed_scores_eval_segment_based(
    scores: Mapping[str, np.ndarray], ground_truth: pd.DataFrame, durations: Mapping[str, float], classes: Iterable[str],
    frame_hop_s: float, *, segment_length_s: float, threshold: float, max_fpr: float | None = None,
) -> dict[str, dict[str, float]]:
    """sed_scores_eval's segment-based F1, precision, recall, error rate and AUROC (partial with ``max_fpr``).

    Returns ``{"f1", "precision", "recall", "error_rate", "auroc"} -> {class or "mean": value}`` with its
    averages under "mean" (its "macro_average"); F1 and the rates need every class to have events.
    """
    from sed_scores_eval import segment_based

    classes = list(classes)
    score_tables, reference = sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s)
    audio_durations = {clip_id(str(name)): float(seconds) for name, seconds in durations.items()}
    options = dict(audio_durations=audio_durations, segment_length=segment_length_s)
    result = {}
    if all(any(label == name for events in reference.values() for *_, label in events) for name in classes):
        f1, precision, recall, _ = segment_based.fscore(score_tables, reference, threshold=threshold, **options)
        error_rate, *_ = segment_based.error_rate(score_tables, reference, threshold=threshold, **options)
        for name, values in (("f1", f1), ("precision", precision), ("recall", recall), ("error_rate", error_rate)):
            result[name] = _named(values, classes, "macro_average")
    auroc, _ = segment_based.auroc(score_tables, reference, max_fpr=max_fpr, **options)
    result["auroc"] = _named(auroc, classes, "mean")
    return result


def _named(values: dict, classes: list[str], mean_key: str) -> dict[str, float]:
    return {**{name: float(values[name]) for name in classes}, "mean": float(values[mean_key])}
