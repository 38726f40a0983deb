"""The established implementations on the same input: psds_eval and sed_scores_eval.

For tests and benchmarks only (both are test extras).
"""

from __future__ import annotations

import warnings
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from tbfl.evaluation.scores import clip_id, scores_to_frame

_DETECTION_COLUMNS = ["filename", "onset", "offset", "event_label"]


def psds_eval_psds(
    ground_truth: pd.DataFrame,
    durations: Mapping[str, float],
    detections_per_threshold: Iterable[pd.DataFrame],
    *,
    dtc: float,
    gtc: float,
    cttc: float | None,
    alpha_ct: float,
    alpha_st: float,
    max_efpr: float = 100.0,
) -> float:
    """psds_eval's PSDS from one detection table per operating point.

    psds_eval cannot take ``cttc=None``: 0.3 is passed then, which changes
    nothing when ``alpha_ct`` is 0.
    """
    evaluator = _psds_evaluator(ground_truth, durations, dtc, gtc, 0.3 if cttc is None else cttc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate operating points, pandas deprecations
        for i, detections in enumerate(detections_per_threshold):
            evaluator.add_operating_point(detections[_DETECTION_COLUMNS], info={"name": f"op{i}"})
        return float(evaluator.psds(alpha_ct=alpha_ct, alpha_st=alpha_st, max_efpr=max_efpr).value)


def psds_eval_macro_f1(
    ground_truth: pd.DataFrame, durations: Mapping[str, float], detections: pd.DataFrame,
    *, dtc: float = 0.5, gtc: float = 0.5, cttc: float = 0.3,
) -> tuple[float, dict[str, float]]:
    """psds_eval's intersection-based macro F1 and per-class F1 (NaN for a class without TP)."""
    evaluator = _psds_evaluator(ground_truth, durations, dtc, gtc, cttc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        macro, per_class = evaluator.compute_macro_f_score(detections[_DETECTION_COLUMNS])
    return float(macro), {name: float(value) for name, value in per_class.items()}


def sed_scores_eval_psds(
    scores: Mapping[str, np.ndarray],
    ground_truth: pd.DataFrame,
    durations: Mapping[str, float],
    classes: Iterable[str],
    frame_hop_s: float,
    *,
    dtc: float,
    gtc: float,
    cttc: float | None,
    alpha_ct: float,
    alpha_st: float,
    max_efpr: float = 100.0,
) -> tuple[float, dict[str, float]]:
    """sed_scores_eval's threshold-free PSDS and per-class PSDS from (C, n_frames) scores."""
    from sed_scores_eval import intersection_based

    score_tables, reference = sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s)
    value, per_class, *_ = intersection_based.psds(
        scores=score_tables, ground_truth=reference,
        audio_durations={clip_id(str(name)): float(seconds) for name, seconds in durations.items()},
        dtc_threshold=dtc, gtc_threshold=gtc, cttc_threshold=cttc if alpha_ct > 0 else None,
        alpha_ct=alpha_ct, alpha_st=alpha_st, max_efpr=max_efpr, unit_of_time="hour",
    )
    return float(value), {name: float(v) for name, v in per_class.items()}


def sed_scores_eval_intersection_f1(
    scores: Mapping[str, np.ndarray], ground_truth: pd.DataFrame, classes: Iterable[str], frame_hop_s: float,
    threshold: float, *, dtc: float = 0.5, gtc: float = 0.5,
) -> tuple[float, dict[str, float]]:
    """sed_scores_eval's intersection-based macro F1 and per-class F1 at ``threshold`` (score > threshold)."""
    from sed_scores_eval import intersection_based

    score_tables, reference = sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s)
    f1, *_ = intersection_based.fscore(score_tables, reference, threshold, dtc_threshold=dtc, gtc_threshold=gtc)
    return float(f1["macro_average"]), {name: float(f1[name]) for name in classes}


def sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s):
    """Score tables and ground-truth event lists keyed by clip id, as sed_scores_eval takes them."""
    classes = list(classes)
    score_tables = {clip: scores_to_frame(values, classes, frame_hop_s) for clip, values in scores.items()}
    reference = {clip: [] for clip in score_tables}
    labelled = ground_truth[ground_truth["event_label"].notna()]
    for filename, onset, offset, label in zip(labelled["filename"], labelled["onset"], labelled["offset"], labelled["event_label"]):
        reference[clip_id(str(filename))].append((float(onset), float(offset), label))
    return score_tables, reference


def _psds_evaluator(ground_truth, durations, dtc, gtc, cttc):
    from psds_eval import PSDSEval

    metadata = pd.DataFrame({"filename": [f"{clip_id(str(n))}.wav" for n in durations], "duration": list(durations.values())})
    events = ground_truth[ground_truth["event_label"].notna()][_DETECTION_COLUMNS].copy()
    events["filename"] = [f"{clip_id(str(f))}.wav" for f in events["filename"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PSDSEval(
            dtc_threshold=dtc, gtc_threshold=gtc, cttc_threshold=cttc,
            ground_truth=events, metadata=metadata, duration_unit="hour",
        )


def sed_scores_eval_intersection_error_rate(
    scores: Mapping[str, np.ndarray], ground_truth: pd.DataFrame, classes: Iterable[str], frame_hop_s: float,
    threshold: float, *, dtc: float = 0.5, gtc: float = 0.5,
) -> tuple[float, dict[str, float]]:
    """sed_scores_eval's intersection-based macro error rate and per-class error rates at ``threshold``.

    Read off its ``error_rate_curve``: its ``error_rate`` at one threshold fails in 0.0.4 (a KeyError
    while picking the statistics of the threshold, whose cross-trigger counts are a dict).
    """
    from sed_scores_eval import intersection_based
    from sed_scores_eval.base_modules.curves import get_curve_idx_for_threshold

    classes = list(classes)
    score_tables, reference = sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s)
    curves = intersection_based.error_rate_curve(score_tables, reference, dtc_threshold=dtc, gtc_threshold=gtc)
    per_class = {}
    for name in classes:
        rates, _, _, curve_scores, _ = curves[name]
        per_class[name] = float(rates[get_curve_idx_for_threshold(curve_scores, threshold)])
    return float(np.mean(list(per_class.values()))), per_class


def sed_scores_eval_pipsds(
    scores_per_postprocessing: Iterable[Mapping[str, np.ndarray]], ground_truth: pd.DataFrame, durations: Mapping[str, float],
    classes: Iterable[str], frame_hop_s: float, *, dtc: float, gtc: float, cttc: float | None, alpha_ct: float,
    alpha_st: float, max_efpr: float = 100.0,
) -> tuple[float, dict[str, float]]:
    """sed_scores_eval's ``postprocessing_independent_psds`` and per-class values from already post-processed
    (C, n_frames) scores, one mapping per post-processing.

    Its own steps, run in this process (its function hands each post-processing to a process pool, and to
    none when there are more post-processings than jobs): ``psd_roc`` of each, the class ROCs merged by
    ``merge_individual_rocs_into_overall_roc``, then its PSD-ROC and PSDS.
    """
    from sed_scores_eval.intersection_based.pipsds import merge_individual_rocs_into_overall_roc
    from sed_scores_eval.intersection_based.psds import (
        multi_class_psd_roc_from_single_class_psd_rocs, psd_roc, psds_from_psd_roc,
    )

    classes = list(classes)
    audio_durations = {clip_id(str(name)): float(seconds) for name, seconds in durations.items()}
    class_rocs = []
    for scores in scores_per_postprocessing:
        score_tables, reference = sed_scores_eval_inputs(scores, ground_truth, classes, frame_hop_s)
        _, single_class = psd_roc(
            score_tables, reference, audio_durations, dtc_threshold=dtc, gtc_threshold=gtc,
            cttc_threshold=cttc if alpha_ct > 0 else None, alpha_ct=alpha_ct, alpha_st=alpha_st, max_efpr=max_efpr,
            unit_of_time="hour",
        )
        class_rocs.append(single_class)
    merged = {
        name: merge_individual_rocs_into_overall_roc([
            (*rocs[name], np.full(len(rocs[name][-1]), m, dtype=int)) for m, rocs in enumerate(class_rocs)])
        for name in classes
    }
    tpr, efpr = multi_class_psd_roc_from_single_class_psd_rocs(merged, alpha_st=alpha_st, max_efpr=max_efpr)
    per_class = {name: float(psds_from_psd_roc(roc[0], roc[1], max_efpr)) for name, roc in merged.items()}
    return float(psds_from_psd_roc(tpr, efpr, max_efpr)), per_class
