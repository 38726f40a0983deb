"""The established implementation on the same input: sed_eval's ``EventBasedMetrics``.

For tests and benchmarks only (sed_eval is a test extra). sed_eval compares
raw floats, so it agrees with our rounding rule for pairs exactly on the
collar when given ``t_collar = 0.2 + 1e-6`` (the default here).
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from tbfl.evaluation.scores import clip_id

#: sed_eval collar that reproduces the 1 µs rounding rule for pairs exactly on 200 ms.
TIE_ALIGNED_COLLAR_S = 0.2 + 1e-6


def sed_eval_event_based(
    ground_truth: pd.DataFrame,
    detections: pd.DataFrame,
    clip_ids: Iterable[str],
    classes: Iterable[str],
    *,
    t_collar: float = TIE_ALIGNED_COLLAR_S,
    percentage_of_length: float = 0.2,
) -> dict:
    """sed_eval event-based metrics, evaluated clip by clip over ``clip_ids``.

    ``ground_truth`` and ``detections`` have filename, onset, offset,
    event_label. Returns ``{"f1_macro", "precision_macro", "recall_macro",
    "per_class": {class: {"f1", "precision", "recall", "tp", "fp", "fn"}}}``
    with sed_eval's NaN where it gives NaN.
    """
    import sed_eval

    metric = sed_eval.sound_event.EventBasedMetrics(
        event_label_list=list(classes), t_collar=t_collar, percentage_of_length=percentage_of_length,
        empty_system_output_handling="zero_score", event_matching_type="optimal",
    )
    reference_by_clip = _events_by_clip(ground_truth)
    estimated_by_clip = _events_by_clip(detections)
    for clip in clip_ids:
        metric.evaluate(
            reference_event_list=reference_by_clip.get(clip, []),
            estimated_event_list=estimated_by_clip.get(clip, []),
        )
    results = metric.results()
    average = results["class_wise_average"]["f_measure"]
    return {
        "f1_macro": average["f_measure"],
        "precision_macro": average["precision"],
        "recall_macro": average["recall"],
        "per_class": {
            name: {
                "f1": results["class_wise"][name]["f_measure"]["f_measure"],
                "precision": results["class_wise"][name]["f_measure"]["precision"],
                "recall": results["class_wise"][name]["f_measure"]["recall"],
                "tp": int(metric.class_wise[name]["Ntp"]),
                "fp": int(metric.class_wise[name]["Nfp"]),
                "fn": int(metric.class_wise[name]["Nfn"]),
            }
            for name in classes
        },
    }


def _events_by_clip(events: pd.DataFrame) -> dict[str, list[dict]]:
    by_clip: dict[str, list[dict]] = {}
    labelled = events[events["event_label"].notna()]
    for filename, onset, offset, label in zip(labelled["filename"], labelled["onset"], labelled["offset"], labelled["event_label"]):
        by_clip.setdefault(clip_id(str(filename)), []).append(
            {"filename": str(filename), "onset": float(onset), "offset": float(offset), "event_label": label}
        )
    return by_clip


def sed_scores_eval_collar_error_rate(
    scores, ground_truth: pd.DataFrame, classes: Iterable[str], frame_hop_s: float, threshold: float,
    *, onset_collar_s: float = 0.2, offset_collar_s: float = 0.2, offset_collar_rate: float = 0.2,
) -> tuple[float, dict[str, float]]:
    """sed_scores_eval's collar-based macro error rate and per-class error rates at ``threshold`` (score > threshold)."""
    from sed_scores_eval import collar_based

    from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_inputs

    classes = list(classes)
    score_tables, reference = sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s)
    rate, *_ = collar_based.error_rate(score_tables, reference, threshold, onset_collar=onset_collar_s,
                                       offset_collar=offset_collar_s, offset_collar_rate=offset_collar_rate)
    return float(rate["macro_average"]), {name: float(rate[name]) for name in classes}
