"""Tuned per-class median filters: picked as the per-class best, applied exactly as stored, leakage refused."""

import json

import numpy as np
import pytest
from scipy.ndimage import median_filter as scipy_median_filter

from tbfl.cli import main
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.scores import write_scores
from tbfl.evaluation.tuning import PostprocessParams, tune_median_filters


def renamed(case, prefix):
    """The case's scores, events and durations with clip ids ``prefix + id`` (another clip set)."""
    events = case.events.assign(filename=[prefix + f for f in case.events["filename"]])
    return ({prefix + c: v for c, v in case.scores.items()}, events, {prefix + c: d for c, d in case.durations.items()})


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
    for name, case in (("tune", random_cases[0]), ("test", random_cases[1])):
        scores, events, durations = renamed(case, f"{name}_")
        write_scores(tmp_path / name / "scores", scores, case.classes, case.frame_hop_s)
        events.to_csv(tmp_path / name / "gt.tsv", sep="\t", index=False)
        (tmp_path / name / "d.tsv").write_text("filename\tduration\n" + "".join(f"{c}.wav\t{d}\n" for c, d in durations.items()))

    def files(name):
        return ["--scores", str(tmp_path / name / "scores"), "--ground-truth", str(tmp_path / name / "gt.tsv"),
                "--durations", str(tmp_path / name / "d.tsv")]

    assert main(["tune-postprocess", *files("tune"), "--candidates-s", "0,0.3,0.9,2", "--out", str(tmp_path / "p.json")]) == 0
    stored = json.loads((tmp_path / "p.json").read_text())
    assert stored["median_filter_frames"] == list(tuned_params.median_filter_frames)
    assert main(["evaluate", *files("test"), "--postprocess", str(tmp_path / "p.json"), "--no-progress"]) == 0
    assert "tuned median filters" in capsys.readouterr().out
    assert main(["evaluate", *files("tune"), "--postprocess", str(tmp_path / "p.json"), "--no-progress"]) == 2
    assert "pass --allow-tuning-set to do it anyway" in capsys.readouterr().err
