"""Tuned post-processing (median filters, SEBBs, thresholds): picked as the per-class best, applied exactly as stored, leakage refused."""

import json
import math

import numpy as np
import pytest
from scipy.ndimage import median_filter as scipy_median_filter

from tbfl.cli import main
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.scores import write_scores
from tbfl.evaluation.postprocessing.sebb import sebb_curve
from tbfl.evaluation.postprocessing.params import PostprocessParams
from tbfl.evaluation.postprocessing.tuning import sebb_grid, tune_median_filters, tune_sebbs, tune_thresholds


def renamed(case, prefix):
    """The case's scores, events and durations with clip ids ``prefix + id`` (another clip set)."""
    events = case.events.assign(filename=[prefix + f for f in case.events["filename"]])
    return ({prefix + c: v for c, v in case.scores.items()}, events, {prefix + c: d for c, d in case.durations.items()})


def tune_and_test_files(tmp_path, random_cases):
    """Write a tuning set (case 0) and a test set (case 1) as files; return name -> their CLI arguments."""
    for name, case in (("tune", random_cases[0]), ("test", random_cases[1])):
        scores, events, durations = renamed(case, f"{name}_")
        write_scores(tmp_path / name / "scores", scores, case.classes, case.frame_hop_s)
        events.to_csv(tmp_path / name / "gt.tsv", sep="\t", index=False)
        (tmp_path / name / "d.tsv").write_text("filename\tduration\n" + "".join(f"{c}.wav\t{d}\n" for c, d in durations.items()))

    def files(name):
        return ["--scores", str(tmp_path / name / "scores"), "--ground-truth", str(tmp_path / name / "gt.tsv"),
                "--durations", str(tmp_path / name / "d.tsv")]

    return files


@pytest.fixture(scope="module")
def tuned(random_cases):
    case = random_cases[0]
    params, values = tune_median_filters(case.scores, case.events, case.durations, case.classes,
                                         frame_hop_s=case.frame_hop_s, candidates_s=(0.0, 0.3, 0.9, 2.0))
    return case, params, values


def test_each_class_gets_its_best_candidate(tuned):
    case, params, values = tuned
    frames = {0.0: 1, 0.3: 5, 0.9: 15, 2.0: 31}  # odd frames for 0, 0.3, 0.9 and 2 s at 0.064 s
    for c, name in enumerate(case.classes):
        best = max(values[length_s][name] for length_s in values)
        chosen = [length_s for length_s in values if frames[length_s] == params.median_filter_frames[c]][0]
        assert values[chosen][name] == best
    assert len(set(params.median_filter_frames)) > 1  # classes differ on this case


def test_stored_parameters_are_applied_exactly(tmp_path, tuned, random_cases):
    case, params, _ = tuned
    params.save(tmp_path / "p.json")
    loaded = PostprocessParams.load(tmp_path / "p.json")
    assert loaded == params
    other = random_cases[1]
    scores, events, durations = renamed(other, "test_")
    ours = evaluate_scores(scores, events, durations, other.classes, frame_hop_s=other.frame_hop_s, postprocess=loaded)
    by_hand = {clip: np.stack([scipy_median_filter(row, size=n, mode="reflect") for row, n in zip(values, params.median_filter_frames)])
               for clip, values in scores.items()}
    expected = evaluate_scores(by_hand, events, durations, other.classes, frame_hop_s=other.frame_hop_s, median_filter_s=0.0)
    assert ours.psds1_threshold_free.value == expected.psds1_threshold_free.value
    assert ours.to_dict()["details"] == expected.to_dict()["details"]
    assert ours.settings.median_filter_frames_per_class == params.median_filter_frames


def test_tuning_set_leakage_is_refused_unless_allowed(tuned):
    case, params, _ = tuned
    with pytest.raises(ValueError, match=r"16 evaluated clip\(s\) were used to tune the post-processing"):
        evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s, postprocess=params)
    allowed = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                              postprocess=params, allow_tuning_set=True)
    assert allowed.n_clips == 16


def test_cli_tune_then_evaluate(tmp_path, random_cases, tuned, capsys):
    tuned_params = tuned[1]
    files = tune_and_test_files(tmp_path, random_cases)

    assert main(["tune-postprocess", *files("tune"), "--candidates-s", "0,0.3,0.9,2", "--out", str(tmp_path / "p.json")]) == 0
    stored = json.loads((tmp_path / "p.json").read_text())
    assert stored["median_filter_frames"] == list(tuned_params.median_filter_frames)
    assert main(["evaluate", *files("test"), "--postprocess", str(tmp_path / "p.json"), "--no-progress"]) == 0
    assert "tuned median filters" in capsys.readouterr().out
    assert main(["evaluate", *files("tune"), "--postprocess", str(tmp_path / "p.json"), "--no-progress"]) == 2
    assert "pass --allow-tuning-set to do it anyway" in capsys.readouterr().err


SMALL_GRID = dict(step_filters_s=(0.32, 0.64), merge_thresholds_abs=(0.15, 0.3), merge_thresholds_rel=(1.5, 3.0))


@pytest.fixture(scope="module")
def tuned_sebbs(random_cases):
    case = random_cases[0]
    params, values = tune_sebbs(case.scores, case.events, case.durations, case.classes,
                                frame_hop_s=case.frame_hop_s, **SMALL_GRID)
    return case, params, values


def test_sebb_grid_is_either_abs_or_rel_as_the_reference_or_every_pair():
    either = sebb_grid(0.064, (0.32, 0.64), (0.15, 0.3), (1.5, 3.0))
    assert [(p.step_filter_frames, p.merge_threshold_abs, p.merge_threshold_rel) for p in either] == [
        (n, a, r) for n in (6, 10) for a, r in ((0.15, math.inf), (0.3, math.inf), (math.inf, 1.5), (math.inf, 3.0))]
    both = sebb_grid(0.064, (0.32,), (0.15, 0.3), (1.5, 3.0), either_abs_or_rel=False)
    assert [(p.merge_threshold_abs, p.merge_threshold_rel) for p in both] == [(0.15, 1.5), (0.15, 3.0), (0.3, 1.5), (0.3, 3.0)]


def test_sebbs_each_class_gets_its_best_grid_point(tuned_sebbs):
    case, params, values = tuned_sebbs
    assert len(values) == 8 and params.method == "sebb" and params.median_filter_frames == (1,) * 10
    for c, name in enumerate(case.classes):
        assert values[params.sebb[c]][name] == max(v[name] for v in values.values())
        first_best = next(point for point, v in values.items() if v[name] == values[params.sebb[c]][name])
        assert params.sebb[c] == first_best  # ties go to the earlier grid point
    assert len(set(params.sebb)) > 1


def test_stored_sebb_parameters_round_trip_and_are_applied_exactly(tmp_path, tuned_sebbs, random_cases):
    case, params, _ = tuned_sebbs
    params.save(tmp_path / "p.json")
    loaded = PostprocessParams.load(tmp_path / "p.json")
    assert loaded == params and json.loads((tmp_path / "p.json").read_text())["method"] == "sebb"
    other = random_cases[1]
    scores, events, durations = renamed(other, "test_")
    ours = evaluate_scores(scores, events, durations, other.classes, frame_hop_s=other.frame_hop_s, postprocess=loaded)
    by_hand = {clip: np.stack([sebb_curve(row, p) for row, p in zip(values, params.sebb)]) for clip, values in scores.items()}
    expected = evaluate_scores(by_hand, events, durations, other.classes, frame_hop_s=other.frame_hop_s, median_filter_s=0.0)
    assert ours.to_dict()["details"] == expected.to_dict()["details"]
    assert ours.settings.sebb == params.sebb
    with pytest.raises(ValueError, match=r"16 evaluated clip\(s\) were used to tune the post-processing"):
        evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s, postprocess=loaded)


@pytest.mark.parametrize("method", ["median", "sebb"])
def test_tuned_thresholds_are_each_class_best_and_applied_exactly(method, tuned, tuned_sebbs, random_cases):
    case, params, _ = tuned if method == "median" else tuned_sebbs
    with_thresholds, fscore = tune_thresholds(params, case.scores, case.events, case.durations)
    thresholds = with_thresholds.thresholds
    assert len(thresholds) == 10 and len(set(thresholds)) > 1
    on_tuning_set = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                                    postprocess=params, allow_tuning_set=True)
    f1 = on_tuning_set.event_f1_sweep.f1()
    for c in range(10):  # the lowest threshold with the class's best F1
        assert thresholds[c] == on_tuning_set.event_f1_sweep.thresholds[np.argmax(f1[:, c])]
    np.testing.assert_array_equal(fscore.f1, f1.max(axis=0))

    other = random_cases[2]
    scores, events, durations = renamed(other, "test_")
    ours = evaluate_scores(scores, events, durations, other.classes, frame_hop_s=other.frame_hop_s,
                           postprocess=with_thresholds)
    tuned_f1 = ours.event_f1_tuned_thresholds
    for c in range(10):  # by hand: the event F1 at class c's threshold, with the same post-processing
        at_t = evaluate_scores(scores, events, durations, other.classes, frame_hop_s=other.frame_hop_s,
                               postprocess=params, f1_threshold=thresholds[c]).event_f1
        assert (tuned_f1.tp[c], tuned_f1.fp[c], tuned_f1.fn[c], tuned_f1.f1[c]) == (at_t.tp[c], at_t.fp[c], at_t.fn[c], at_t.f1[c])
    assert ours.to_dict()["event_f1_tuned_thresholds"] == tuned_f1.f1_macro
    assert ours.to_dict()["details"]["event_f1_tuned_thresholds"]["threshold"] == dict(zip(other.classes, thresholds))
    assert "event_f1_tuned_thresholds" in ours.format_table()
    with pytest.raises(ValueError, match="pass --allow-tuning-set"):
        evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                        postprocess=with_thresholds)


def test_parameter_files_of_the_first_format_still_load(tmp_path, tuned):
    params = tuned[1]
    old = {"classes": list(params.classes), "median_filter_frames": list(params.median_filter_frames),
           "frame_hop_s": params.frame_hop_s, "metric": params.metric, "tuning_clips": list(params.tuning_clips)}
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert PostprocessParams.load(tmp_path / "old.json") == params
    (tmp_path / "bad.json").write_text(json.dumps({**old, "thresholds": [0.5] * 3}))
    with pytest.raises(ValueError, match="one threshold in"):
        PostprocessParams.load(tmp_path / "bad.json")


def test_another_frame_hop_is_refused(tuned, random_cases):
    other = random_cases[1]
    scores, events, durations = renamed(other, "test_")
    with pytest.raises(ValueError, match="tuned on frames of 0.064 s, not 0.032 s"):
        evaluate_scores(scores, events, durations, other.classes, frame_hop_s=0.032, postprocess=tuned[1])


def test_cli_tune_sebbs_with_thresholds_then_evaluate(tmp_path, random_cases, capsys):
    files = tune_and_test_files(tmp_path, random_cases)

    assert main(["tune-postprocess", *files("tune"), "--method", "sebb", "--step-filters-s", "0.32,0.64",
                 "--merge-abs", "0.15", "--merge-rel", "1.5,3", "--tune-thresholds", "--out", str(tmp_path / "p.json")]) == 0
    assert "threshold event F1" in capsys.readouterr().out
    stored = json.loads((tmp_path / "p.json").read_text())
    assert stored["method"] == "sebb" and len(stored["sebb"]) == 10 and len(stored["thresholds"]) == 10
    # either the absolute or the relative merge test per setting; the other is off: null in strict JSON
    assert all((p["merge_threshold_abs"] is None) != (p["merge_threshold_rel"] is None) for p in stored["sebb"])
    assert PostprocessParams.load(tmp_path / "p.json").sebb[0].merge_threshold_abs in (0.15, math.inf)
    out = tmp_path / "m.json"
    assert main(["evaluate", *files("test"), "--postprocess", str(tmp_path / "p.json"), "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SEBBs after tuned median filters" in printed and "event_f1_tuned_thresholds" in printed
    metrics = json.loads(out.read_text())
    assert 0 <= metrics["event_f1_tuned_thresholds"] <= 1 and metrics["settings"]["sebb"][0]["step_filter_frames"] in (6, 10)
    assert main(["evaluate", *files("tune"), "--postprocess", str(tmp_path / "p.json"), "--no-progress"]) == 2
    assert "pass --allow-tuning-set to do it anyway" in capsys.readouterr().err


def test_cli_refuses_options_of_the_other_method(capsys):
    args = ["tune-postprocess", "--scores", "x", "--ground-truth", "y", "--durations", "z", "--out", "p.json"]
    assert main([*args, "--merge-abs", "0.2"]) == 2
    assert "--merge-abs do(es) not apply to --method median" in capsys.readouterr().err
    assert main([*args, "--method", "sebb", "--candidates-s", "0,0.3"]) == 2
    assert "--candidates-s do(es) not apply to --method sebb" in capsys.readouterr().err
