"""Intersection-based F1 and PSDS == psds_eval (fixed operating points) and sed_scores_eval (threshold-free)."""

import math

import numpy as np
import pytest

from tbfl.evaluation.evaluate import PSDS1, PSDS2, evaluate_scores
from tbfl.evaluation.metrics.intersection_based.reference import (
    psds_eval_macro_f1, psds_eval_psds, sed_scores_eval_intersection_f1, sed_scores_eval_psds,
)
from tbfl.evaluation.postprocessing.frames import decode_events, median_filter_clips


def evaluate(scores, events, durations, classes, hop_s, thresholds, median_filter_s=0.0):
    return evaluate_scores(
        scores, events, durations, classes, frame_hop_s=hop_s, median_filter_s=median_filter_s, thresholds=thresholds,
    )


def psds_eval_value(scores, events, durations, classes, hop_s, thresholds, scenario):
    detections = [decode_events(scores, t, classes, frame_hop_s=hop_s) for t in thresholds]
    return psds_eval_psds(
        events, durations, detections, dtc=scenario.dtc, gtc=scenario.gtc, cttc=scenario.cttc,
        alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr,
    )


def sed_scores_eval_values(scores, events, durations, classes, hop_s, scenario):
    return sed_scores_eval_psds(
        scores, events, durations, classes, hop_s, dtc=scenario.dtc, gtc=scenario.gtc, cttc=scenario.cttc,
        alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr,
    )


def assert_threshold_free_equal(ours, reference, classes):
    value, per_class = reference
    assert ours.value == pytest.approx(value, abs=1e-12)
    for name, mine in zip(classes, ours.per_class):
        assert mine == pytest.approx(per_class[name], abs=1e-12), name


@pytest.mark.parametrize("case_index", range(3))
def test_threshold_free_psds_matches_sed_scores_eval(random_cases, case_index):
    case = random_cases[case_index]
    result = evaluate(case.scores, case.events, case.durations, case.classes, case.frame_hop_s, [0.5], 0.45)
    filtered = median_filter_clips(case.scores, 7)
    for ours, scenario in ((result.psds1_threshold_free, PSDS1), (result.psds2_threshold_free, PSDS2)):
        reference = sed_scores_eval_values(filtered, case.events, case.durations, case.classes, case.frame_hop_s, scenario)
        assert_threshold_free_equal(ours, reference, case.classes)
        assert 0 < ours.value < 1


@pytest.mark.parametrize(("case_index", "n_thresholds"), [(0, 50), (1, 20)])
def test_operating_point_psds_matches_psds_eval(random_cases, case_index, n_thresholds):
    case = random_cases[case_index]
    thresholds = np.round(np.linspace(0.01, 0.99, n_thresholds), 4)
    result = evaluate(case.scores, case.events, case.durations, case.classes, case.frame_hop_s, thresholds, 0.45)
    filtered = median_filter_clips(case.scores, 7)
    for ours, scenario in ((result.psds1, PSDS1), (result.psds2, PSDS2)):
        reference = psds_eval_value(filtered, case.events, case.durations, case.classes, case.frame_hop_s, thresholds, scenario)
        assert ours.value == pytest.approx(reference, abs=1e-12)
        assert 0 < ours.value < 1


@pytest.mark.parametrize("case_index", range(3))
def test_intersection_f1_matches_psds_eval_and_sed_scores_eval(random_cases, case_index):
    case = random_cases[case_index]
    ours = evaluate(case.scores, case.events, case.durations, case.classes, case.frame_hop_s, [0.5], 0.45).intersection_f1
    filtered = median_filter_clips(case.scores, 7)
    detections = decode_events(filtered, 0.5, case.classes, frame_hop_s=case.frame_hop_s)
    psds_macro, psds_per_class = psds_eval_macro_f1(case.events, case.durations, detections)
    sse_macro, sse_per_class = sed_scores_eval_intersection_f1(filtered, case.events, case.classes, case.frame_hop_s, 0.5)
    for c, name in enumerate(case.classes):
        # psds_eval gives NaN to a class without a true positive; that class scores 0 here
        expected = 0.0 if math.isnan(psds_per_class[name]) else psds_per_class[name]
        assert ours.f1[c] == pytest.approx(expected, abs=1e-12) == sse_per_class[name]
    assert ours.f1_macro == pytest.approx(sse_macro, abs=1e-12)
    assert ours.f1_macro == pytest.approx(np.nan_to_num(list(psds_per_class.values())).mean(), abs=1e-12)


CLASSES = ("a", "b", "c")
HOP_S = 0.05


def edge_case(helpers):
    """Events at both clip edges, 1-frame events, overlapping classes, a clip without events, a missed event."""
    plateau = helpers.plateau_scores
    scores = {
        "edges": plateau(3, 200, [(0, 0, 20, 0.9), (1, 180, 200, 0.9), (2, 0, 200, 0.6)]),
        "one_frame": plateau(3, 200, [(0, 40, 41, 0.9), (0, 60, 61, 0.7), (1, 100, 101, 0.7)]),
        "overlapping": plateau(3, 200, [(0, 20, 120, 0.8), (1, 60, 160, 0.8), (2, 50, 70, 0.4), (2, 100, 140, 0.3)]),
        "silent_gt": plateau(3, 200, [(1, 30, 90, 0.9), (0, 10, 12, 0.2)]),
        "missed": plateau(3, 200, [(1, 80, 95, 0.55)]),
    }
    events = helpers.events_frame([
        ("edges.wav", 0.0, 1.0, "a"), ("edges.wav", 9.0, 10.0, "b"), ("edges.wav", 0.0, 10.0, "c"),
        ("one_frame.wav", 2.0, 2.05, "a"), ("one_frame.wav", 3.1, 3.15, "a"), ("one_frame.wav", 5.0, 5.05, "b"),
        ("overlapping.wav", 1.05, 6.1, "a"), ("overlapping.wav", 2.9, 8.0, "b"), ("overlapping.wav", 2.5, 3.5, "c"),
        ("missed.wav", 4.0, 5.0, "c"),
    ])
    return scores, events, {clip: 10.0 for clip in scores}


def test_edge_cases_match_both_references(helpers):
    scores, events, durations = edge_case(helpers)
    thresholds = np.array([0.1, 0.25, 0.35, 0.5, 0.65, 0.75, 0.85])
    result = evaluate(scores, events, durations, CLASSES, HOP_S, thresholds)
    for ours, exact, scenario in ((result.psds1, result.psds1_threshold_free, PSDS1), (result.psds2, result.psds2_threshold_free, PSDS2)):
        assert ours.value == pytest.approx(psds_eval_value(scores, events, durations, CLASSES, HOP_S, thresholds, scenario), abs=1e-12)
        assert_threshold_free_equal(exact, sed_scores_eval_values(scores, events, durations, CLASSES, HOP_S, scenario), CLASSES)
        # the plateaus make these thresholds hit every operating point
        assert ours.value == pytest.approx(exact.value, abs=1e-12)
    sse_macro, _ = sed_scores_eval_intersection_f1(scores, events, CLASSES, HOP_S, 0.5)
    assert result.intersection_f1.f1_macro == pytest.approx(sse_macro, abs=1e-12)


def test_empty_output(helpers):
    scores, events, durations = edge_case(helpers)
    quiet = {clip: np.zeros_like(values) for clip, values in scores.items()}
    result = evaluate(quiet, events, durations, CLASSES, HOP_S, [0.3, 0.5])
    assert result.psds1.value == result.psds2.value == result.psds1_threshold_free.value == 0.0
    assert psds_eval_value(quiet, events, durations, CLASSES, HOP_S, [0.3, 0.5], PSDS2) == 0.0
    assert result.intersection_f1.f1_macro == 0.0 and not np.isnan(result.intersection_f1.f1).any()


def test_class_absent_from_ground_truth_is_left_out_like_psds_eval(helpers):
    scores, events, durations = edge_case(helpers)
    without_b = events[events["event_label"] != "b"]
    thresholds = np.array([0.25, 0.5, 0.75])
    result = evaluate(scores, without_b, durations, CLASSES, HOP_S, thresholds)
    for ours, scenario in ((result.psds1, PSDS1), (result.psds2, PSDS2)):
        assert ours.value == pytest.approx(psds_eval_value(scores, without_b, durations, CLASSES, HOP_S, thresholds, scenario), abs=1e-12)
        assert ours.per_class[1] == 0.0
    psds_macro, _ = psds_eval_macro_f1(without_b, durations, decode_events(scores, 0.5, CLASSES, frame_hop_s=HOP_S))
    assert result.intersection_f1.f1_macro == pytest.approx(psds_macro, abs=1e-12)


def test_overlap_exactly_on_the_dtc_counts_as_sed_scores_eval_does(helpers):
    # A case met in a DESED-sized run: detection frames [30, 40) = [1.92, 2.56] s and a reference
    # event [2.087, 2.535] overlap by 0.448 s = 70 % of the detection, 0.6999999999999998 in floats.
    hop_s = 0.064
    scores = {"x": helpers.plateau_scores(3, 156, [(0, 30, 40, 0.9), (1, 60, 70, 0.9), (2, 100, 110, 0.9)])}
    events = helpers.events_frame([
        ("x.wav", 2.087, 2.535, "a"), ("x.wav", 3.84, 4.48, "b"), ("x.wav", 6.4, 7.04, "c"),
    ])
    result = evaluate(scores, events, {"x": 10.0}, CLASSES, hop_s, [0.5])
    assert_threshold_free_equal(
        result.psds1_threshold_free, sed_scores_eval_values(scores, events, {"x": 10.0}, CLASSES, hop_s, PSDS1), CLASSES,
    )
    assert result.psds1_threshold_free.per_class[0] == 1.0  # relevant: detected, no false positive
    # psds_eval compares the float ratio and loses it: class "a" gets TPR 0 there
    assert result.psds1.value == 1.0
    assert psds_eval_value(scores, events, {"x": 10.0}, CLASSES, hop_s, [0.5], PSDS1) < 0.5


def test_detections_in_padding_are_ignored_like_psds_eval(helpers):
    scores, events, durations = edge_case(helpers)
    short = {**durations, "silent_gt": 1.0}  # the false alarm at 1.5-4.5 s starts after the clip's end
    thresholds = np.array([0.5, 0.85])
    result = evaluate(scores, events, short, CLASSES, HOP_S, thresholds)
    assert result.psds1.value == pytest.approx(psds_eval_value(scores, events, short, CLASSES, HOP_S, thresholds, PSDS1), abs=1e-12)
    full = evaluate(scores, events, durations, CLASSES, HOP_S, thresholds)
    assert result.event_f1.fp[1] == full.event_f1.fp[1] - 1
