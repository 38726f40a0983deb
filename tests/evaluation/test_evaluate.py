"""evaluate_scores: one call, every metric; input forms, JSON output and input errors."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from tbfl.data.desed import StrongLabels
from tbfl.evaluation.evaluate import DEFAULT_THRESHOLDS, PsdsSettings, evaluate_scores
from tbfl.evaluation.metrics.collar_based.reference import sed_eval_event_based
from tbfl.evaluation.postprocessing.frames import decode_events, median_filter_clips
from tbfl.evaluation.scores import scores_to_frame


@pytest.fixture(scope="module")
def case(random_cases):
    return random_cases[1]


@pytest.fixture(scope="module")
def result(case):
    return evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s)


def test_defaults_are_the_baseline_s(result):
    settings = result.settings
    assert settings.median_filter_frames == 7 and settings.median_filter_s == 0.45
    assert np.array_equal(settings.thresholds, DEFAULT_THRESHOLDS)
    assert DEFAULT_THRESHOLDS[0] == 0.01 and DEFAULT_THRESHOLDS[-1] == 0.99 and len(DEFAULT_THRESHOLDS) == 50
    assert (settings.psds1.dtc, settings.psds1.gtc, settings.psds1.alpha_ct, settings.psds1.alpha_st) == (0.7, 0.7, 0.0, 1.0)
    assert (settings.psds2.dtc, settings.psds2.gtc, settings.psds2.cttc, settings.psds2.alpha_ct) == (0.1, 0.1, 0.3, 0.5)
    assert settings.psds1.max_efpr == settings.psds2.max_efpr == 100.0


def test_event_f1_at_half_matches_sed_eval(case, result):
    # 0.5 is not one of the 50 thresholds: it is swept in addition
    detections = decode_events(median_filter_clips(case.scores, 7), 0.5, case.classes, frame_hop_s=case.frame_hop_s)
    reference = sed_eval_event_based(case.events, detections, sorted(case.durations), case.classes)
    assert result.event_f1.f1_macro == pytest.approx(reference["f1_macro"], abs=1e-12)
    assert [int(result.event_f1.tp[c]) for c in range(10)] == [reference["per_class"][n]["tp"] for n in case.classes]
    assert result.event_f1_best.f1_macro == pytest.approx(result.event_f1_sweep.f1_macro().max(), abs=1e-15)


def test_other_input_forms_give_the_same_result(case, result):
    tables = {f"{clip}.wav": scores_to_frame(values, case.classes, case.frame_hop_s) for clip, values in case.scores.items()}
    labels = StrongLabels(case.events, filenames=tuple(f"{clip}.wav" for clip in case.scores))
    durations = {f"{clip}.wav": seconds for clip, seconds in case.durations.items()}
    again = evaluate_scores(tables, labels, durations, case.classes, frame_hop_s=case.frame_hop_s)
    assert again.to_dict() == result.to_dict()


def test_to_dict_is_json_safe_and_consistent(result):
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["psds1"] == result.psds1.value and data["psds2_threshold_free"] == result.psds2_threshold_free.value
    assert data["event_f1"] == result.event_f1.f1_macro and data["intersection_f1"] == result.intersection_f1.f1_macro
    assert data["event_f1_best_threshold"] in DEFAULT_THRESHOLDS
    per_class = data["details"]["psds1"]["per_class"]
    assert list(per_class) == list(result.settings.classes) and all(0 <= v <= 1 for v in per_class.values())
    assert data["details"]["event_f1"]["per_class"]["Dog"]["tp"] == int(result.event_f1.tp[4])
    assert data["settings"]["median_filter_frames"] == 7 and len(data["settings"]["thresholds"]) == 50
    assert len(data["details"]["event_f1_sweep"]["f1"]) == 50
    for value in (data["psds1"], data["psds2"], data["event_f1"], data["event_f1_best"], data["intersection_f1"]):
        assert 0 < value < 1


def test_a_class_without_true_positives_scores_zero(case):
    scores = {clip: values.copy() for clip, values in case.scores.items()}
    for values in scores.values():
        values[4] = 0.0  # Dog never fires
    result = evaluate_scores(scores, case.events, case.durations, case.classes)
    for fscore in (result.event_f1, result.event_f1_best, result.intersection_f1):
        assert fscore.f1[4] == 0.0 and not np.isnan(fscore.f1).any()
    assert result.psds1.per_class[4] == 0.0 and result.psds2_threshold_free.per_class[4] == 0.0
    assert not math.isnan(result.psds1.value)


def test_scores_tables_with_another_hop_are_refused(case):
    tables = {clip: scores_to_frame(values, case.classes, 0.032) for clip, values in case.scores.items()}
    with pytest.raises(ValueError, match="frame hop 0.032 s, expected 0.064 s"):
        evaluate_scores(tables, case.events, case.durations, case.classes)


def test_clip_set_mismatches_are_listed(case):
    scores = dict(case.scores)
    extra = {f"extra{i}": np.zeros((10, 156)) for i in range(5)}
    with pytest.raises(ValueError, match=r"5 clip\(s\) have scores but are not in the durations list \(extra0, extra1, extra2, \.\.\.\)"):
        evaluate_scores({**scores, **extra}, case.events, case.durations, case.classes)
    missing = sorted(scores)[:2]
    with pytest.raises(ValueError, match=rf"2 clip\(s\) are in the durations list but have no scores \({missing[0]}, {missing[1]}\)"):
        evaluate_scores({k: v for k, v in scores.items() if k not in missing}, case.events, case.durations, case.classes)
    events = pd.concat([case.events, pd.DataFrame([("ghost.wav", 1.0, 2.0, "Dog")], columns=case.events.columns)])
    with pytest.raises(ValueError, match=r"1 clip\(s\) are in the ground truth but not in the durations list \(ghost\)"):
        evaluate_scores(scores, events, case.durations, case.classes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, e, d: s["clip00000"].__setitem__((3, 17), np.nan), r"scores of clip00000: nan at frame 17, class 'Dishes'"),
        (lambda s, e, d: s.__setitem__("clip00001", np.zeros((9, 156))), r"scores of clip00001: expected shape \(C=10, n_frames\), got \(9, 156\)"),
        (lambda s, e, d: e.__setitem__("event_label", e["event_label"].replace("Dog", "Doggo")), r"labels \['Doggo'\] that are not among the classes"),
        (lambda s, e, d: e.__setitem__("offset", e["onset"]), r"needs 0 <= onset < offset"),
        (lambda s, e, d: d.__setitem__("clip00002", 0.0), r"clip duration\(s\) are not positive, e.g. clip00002: 0.0"),
        (lambda s, e, d: d.clear(), "the durations list is empty"),
    ],
)
def test_bad_input_is_reported(case, change, message):
    scores = {clip: values.copy() for clip, values in case.scores.items()}
    events, durations = case.events.copy(), dict(case.durations)
    change(scores, events, durations)
    with pytest.raises(ValueError, match=message):
        evaluate_scores(scores, events, durations, case.classes)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(dtc=0.1, gtc=0.1, cttc=None, alpha_ct=0.5, alpha_st=1.0), "alpha_ct > 0 needs a cttc"),
        (dict(dtc=1.5, gtc=0.1, cttc=None, alpha_ct=0.0, alpha_st=1.0), r"dtc must be in \[0, 1\], got 1.5"),
        (dict(dtc=0.1, gtc=0.1, cttc=None, alpha_ct=0.0, alpha_st=1.0, max_efpr=0.0), "max_efpr > 0"),
    ],
)
def test_psds_settings_are_checked(settings, message):
    with pytest.raises(ValueError, match=message):
        PsdsSettings(**settings)


def test_overlapping_ground_truth_follows_one_rule_through_file_and_api(tmp_path, case):
    """Same-class overlapping or touching events are merged whether they come from a TSV or a DataFrame."""
    from tbfl.data.desed import read_strong_tsv

    clip = sorted(case.durations)[0]
    extra = pd.DataFrame([(f"{clip}.wav", 1.0, 2.5, "Dog"), (f"{clip}.wav", 2.0, 3.0, "Dog"), (f"{clip}.wav", 3.0, 3.5, "Dog")],
                         columns=["filename", "onset", "offset", "event_label"])
    events = pd.concat([case.events, extra], ignore_index=True)
    path = tmp_path / "gt.tsv"
    events.to_csv(path, sep="\t", index=False)
    with pytest.warns(UserWarning, match="merged"):
        through_file = evaluate_scores(case.scores, read_strong_tsv(path, case.classes), case.durations, case.classes,
                                       frame_hop_s=case.frame_hop_s)
    with pytest.warns(UserWarning, match="merged"):
        through_api = evaluate_scores(case.scores, events, case.durations, case.classes, frame_hop_s=case.frame_hop_s)
    assert through_api.to_dict() == through_file.to_dict()
    assert through_api.n_events == len(case.events) + 1
