"""Event-based (collar) F1 == sed_eval's EventBasedMetrics on the same detections."""

import math

import numpy as np
import pytest

from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.metrics.collar_based.reference import TIE_ALIGNED_COLLAR_S, sed_eval_event_based
from tbfl.evaluation.postprocessing.frames import decode_events, median_filter_clips

SWEEP = np.round(np.linspace(0.01, 0.99, 50), 2)


def sweep_of(scores, events, durations, classes, hop_s, thresholds, median_filter_s=0.0):
    return evaluate_scores(
        scores, events, durations, classes, frame_hop_s=hop_s, median_filter_s=median_filter_s, thresholds=thresholds,
    ).event_f1_sweep


def assert_same_as_sed_eval(ours, reference):
    """Counts exactly; scores to 1e-12 (sed_eval's NaN for a class without reference events is our 0)."""
    for c, name in enumerate(ours.classes):
        expected = reference["per_class"][name]
        assert (ours.tp[c], ours.fp[c], ours.fn[c]) == (expected["tp"], expected["fp"], expected["fn"]), name
        for key in ("f1", "precision", "recall"):
            value = expected[key]
            assert getattr(ours, key)[c] == pytest.approx(0.0 if math.isnan(value) else value, abs=1e-12), (name, key)
    assert ours.f1_macro == pytest.approx(reference["f1_macro"], abs=1e-12)
    assert ours.precision_macro == pytest.approx(reference["precision_macro"], abs=1e-12)
    assert ours.recall_macro == pytest.approx(reference["recall_macro"], abs=1e-12)


@pytest.mark.parametrize("case_index", range(3))
def test_sweep_matches_sed_eval_on_random_cases(random_cases, case_index):
    case = random_cases[case_index]
    sweep = sweep_of(case.scores, case.events, case.durations, case.classes, case.frame_hop_s, SWEEP, 0.45)
    filtered = median_filter_clips(case.scores, 7)
    for k in range(case_index, 50, 6):  # 9 of the 50 thresholds per case, all 50 over the three cases
        detections = decode_events(filtered, SWEEP[k], case.classes, frame_hop_s=case.frame_hop_s)
        reference = sed_eval_event_based(case.events, detections, sorted(case.durations), case.classes)
        assert_same_as_sed_eval(sweep.at(k), reference)


def test_best_thresholds_are_read_off_the_sweep(random_cases):
    case = random_cases[0]
    sweep = sweep_of(case.scores, case.events, case.durations, case.classes, case.frame_hop_s, SWEEP, 0.45)
    macro = sweep.f1_macro()
    best = sweep.best()
    assert best.f1_macro == pytest.approx(macro.max(), abs=1e-15) and best.thresholds[0] == SWEEP[np.argmax(macro)]
    per_class = sweep.best_per_class()
    assert np.array_equal(per_class.f1, sweep.f1().max(axis=0))
    assert per_class.f1_macro >= best.f1_macro > 0


CLASSES = ("a", "b", "c")
HOP_S = 0.05


def edge_case(helpers):
    """Hand-made clips: events at both clip edges, 1-frame events, overlapping classes, clips without events."""
    plateau = helpers.plateau_scores
    scores = {
        "edges": plateau(3, 200, [(0, 0, 20, 0.9), (1, 180, 200, 0.9), (2, 0, 200, 0.6)]),
        "one_frame": plateau(3, 200, [(0, 40, 41, 0.9), (0, 60, 61, 0.9), (1, 100, 101, 0.7)]),
        "overlapping": plateau(3, 200, [(0, 20, 120, 0.8), (1, 60, 160, 0.8), (2, 50, 70, 0.5)]),  # 0.5: on a threshold
        "silent_gt": plateau(3, 200, [(1, 30, 90, 0.9)]),  # false alarms only
        "missed": plateau(3, 200, []),
    }
    events = helpers.events_frame([
        ("edges.wav", 0.0, 1.0, "a"), ("edges.wav", 9.0, 10.0, "b"), ("edges.wav", 0.0, 10.0, "c"),
        ("one_frame.wav", 2.0, 2.05, "a"), ("one_frame.wav", 3.1, 3.15, "a"), ("one_frame.wav", 5.0, 5.05, "b"),
        ("overlapping.wav", 1.05, 6.1, "a"), ("overlapping.wav", 2.9, 8.0, "b"), ("overlapping.wav", 2.5, 3.5, "c"),
        ("missed.wav", 4.0, 5.0, "c"),
    ])
    return scores, events, {clip: 10.0 for clip in scores}


def test_edge_cases_match_sed_eval(helpers):
    scores, events, durations = edge_case(helpers)
    thresholds = np.array([0.3, 0.5, 0.65, 0.75, 0.85])
    sweep = sweep_of(scores, events, durations, CLASSES, HOP_S, thresholds)
    for k, threshold in enumerate(thresholds):
        detections = decode_events(scores, threshold, CLASSES, frame_hop_s=HOP_S)
        assert_same_as_sed_eval(sweep.at(k), sed_eval_event_based(events, detections, sorted(scores), CLASSES))
    # false alarms in the clip without reference events count
    assert sweep.at(0).fp[1] >= 1


def test_empty_output_scores_zero_not_nan(helpers):
    scores, events, durations = edge_case(helpers)
    quiet = {clip: np.zeros_like(values) for clip, values in scores.items()}
    result = sweep_of(quiet, events, durations, CLASSES, HOP_S, np.array([0.5])).at(0)
    reference = sed_eval_event_based(events, decode_events(quiet, 0.5, CLASSES, frame_hop_s=HOP_S), sorted(quiet), CLASSES)
    assert_same_as_sed_eval(result, reference)
    assert result.f1_macro == result.precision_macro == result.recall_macro == 0.0
    assert np.array_equal(result.fn, [4, 3, 3])


def test_class_absent_from_ground_truth_is_left_out_of_the_macro_f1(helpers):
    scores, events, durations = edge_case(helpers)
    without_c = events[events["event_label"] != "c"]
    result = sweep_of(scores, without_c, durations, CLASSES, HOP_S, np.array([0.5])).at(0)
    reference = sed_eval_event_based(without_c, decode_events(scores, 0.5, CLASSES, frame_hop_s=HOP_S), sorted(scores), CLASSES)
    assert math.isnan(reference["per_class"]["c"]["f1"])  # sed_eval: NaN, skipped by its nanmean
    assert result.f1[2] == 0.0 and result.fp[2] > 0
    assert result.f1_macro == pytest.approx(result.f1[:2].mean())
    assert_same_as_sed_eval(result, reference)


def test_matching_is_optimal_not_greedy(helpers):
    # d2 [0.85, 0.95] fits only g1 [1.0, 1.1]; d1 [1.05, 1.25] fits g1 and g2 [1.2, 1.3]: 2 TP, not 1.
    scores = {"x": helpers.plateau_scores(3, 200, [(0, 17, 19, 0.9), (0, 21, 25, 0.9)])}
    events = helpers.events_frame([("x.wav", 1.0, 1.1, "a"), ("x.wav", 1.2, 1.3, "a")])
    result = sweep_of(scores, events, {"x": 10.0}, CLASSES, HOP_S, np.array([0.5])).at(0)
    reference = sed_eval_event_based(events, decode_events(scores, 0.5, CLASSES, frame_hop_s=HOP_S), ["x"], CLASSES)
    assert result.tp[0] == reference["per_class"]["a"]["tp"] == 2


def test_pairs_exactly_on_the_collar_match(helpers):
    hop_s = 0.064
    # detections at frame k*hop; references 200 ms away, written with 3 decimals as in DESED
    frames = [k for k in range(5, 140, 7) if abs(round(k * hop_s + 0.2, 3) - k * hop_s) > 0.2][:6]
    assert len(frames) >= 3  # float differences just above 0.2 s
    scores = {f"c{k}": helpers.plateau_scores(3, 156, [(0, k, k + 10, 0.9)]) for k in frames}
    events = helpers.events_frame(
        [(f"c{k}.wav", round(k * hop_s + 0.2, 3), round((k + 10) * hop_s, 3), "a") for k in frames]
    )
    durations = {clip: 10.0 for clip in scores}
    result = sweep_of(scores, events, durations, CLASSES, hop_s, np.array([0.5])).at(0)
    assert result.tp[0] == len(frames)  # kept by the 1 µs rounding rule
    detections = decode_events(scores, 0.5, CLASSES, frame_hop_s=hop_s)
    aligned = sed_eval_event_based(events, detections, sorted(scores), CLASSES, t_collar=TIE_ALIGNED_COLLAR_S)
    assert_same_as_sed_eval(result, aligned)
    raw = sed_eval_event_based(events, detections, sorted(scores), CLASSES, t_collar=0.2)
    assert raw["per_class"]["a"]["tp"] == 0  # sed_eval's float comparison loses them all
