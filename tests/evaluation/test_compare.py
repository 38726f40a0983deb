"""Several systems in one call: one row each, paired bootstrap intervals of the differences."""

import json

import numpy as np
import pytest

from tbfl.cli import main
from tbfl.evaluation.compare import Comparison, compare_files
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.scores import write_scores


@pytest.fixture
def two_systems(tmp_path, random_cases):
    """System "a": a case's scores; system "b": the same scores sharpened (another system on the same clips)."""
    case = random_cases[0]
    sharpened = {clip: values**2 for clip, values in case.scores.items()}
    write_scores(tmp_path / "a", case.scores, case.classes, case.frame_hop_s)
    write_scores(tmp_path / "b", sharpened, case.classes, case.frame_hop_s)
    rows = [(f, f"{on:.3f}", f"{off:.3f}", label) for f, on, off, label in case.events.itertuples(index=False)]
    rows += [(f"{clip}.wav", "", "", "") for clip in case.scores if not (case.events["filename"] == f"{clip}.wav").any()]
    (tmp_path / "gt.tsv").write_text("filename\tonset\toffset\tevent_label\n" + "".join("\t".join(r) + "\n" for r in rows))
    (tmp_path / "durations.tsv").write_text(
        "filename\tduration\n" + "".join(f"{clip}.wav\t{seconds}\n" for clip, seconds in case.durations.items()))
    return case, sharpened, tmp_path


def test_each_row_is_that_system_s_evaluation_and_differences_are_paired(two_systems):
    case, sharpened, tmp_path = two_systems
    comparison = compare_files([tmp_path / "a", tmp_path / "b", tmp_path / "a"], tmp_path / "gt.tsv", tmp_path / "durations.tsv",
                               names=["a", "b", "a again"], median_filter_s=0.0, bootstrap=40, segment_length_s=1.0)
    single = {name: evaluate_scores(scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                                    median_filter_s=0.0, bootstrap=40, segment_length_s=1.0)
              for name, scores in (("a", case.scores), ("b", sharpened))}
    for result, name in zip(comparison.results, ("a", "b", "a")):
        _same(result.to_dict(), single[name].to_dict())
    # Same resampled clips for every system: a system minus itself is exactly 0 on every resample.
    assert all(values == (0.0, 0.0, 0.0) for values in comparison.differences["a again"].values())
    # b - a on each resample: its mean is the difference of the two means, its interval that of the paired differences.
    for metric in ("psds1", "segment_auroc", "event_f1"):
        difference = single["b"].resampled_values[metric] - single["a"].resampled_values[metric]
        mean, low, high = comparison.differences["b"][metric]
        assert mean == pytest.approx(difference.mean(), abs=1e-12)
        assert (low, high) == pytest.approx((np.percentile(difference, 2.5), np.percentile(difference, 97.5)), abs=1e-12)
    table = comparison.format_table()
    assert "paired 95% intervals of (system - a) over 40 clip resamples" in table
    assert len([line for line in table.splitlines() if line.startswith(("a ", "b ", "a again"))]) == 5


def _same(mine, theirs):
    """Equal JSON values (floats exactly: the same computation)."""
    assert json.dumps(mine, sort_keys=True) == json.dumps(theirs, sort_keys=True)


def test_cli_compares_folders_in_one_table_and_one_json(two_systems, capsys):
    _, _, tmp_path = two_systems
    common = ["evaluate", "--ground-truth", str(tmp_path / "gt.tsv"), "--durations", str(tmp_path / "durations.tsv"),
              "--no-progress"]
    assert main([*common, "--scores", str(tmp_path / "a"), str(tmp_path / "b"), "--bootstrap", "20",
                 "--out", str(tmp_path / "cmp.json")]) == 0
    written = json.loads((tmp_path / "cmp.json").read_text())
    assert list(written["systems"]) == ["a", "b"] and written["differences_to"] == "a"
    assert set(written["differences"]["b"]) >= {"psds1", "psds2", "event_f1", "intersection_f1"}
    table = capsys.readouterr().out
    assert table.splitlines()[0].startswith("2 systems on 16 clips")
    assert main([*common, "--scores", str(tmp_path / "a"), str(tmp_path / "b"), "--names", "x"]) == 2
    assert "--names gives 1 names for 2" in capsys.readouterr().err
    assert main([*common, "--scores", str(tmp_path / "a"), str(tmp_path / "b"), "--psds-only"]) == 2


def test_without_bootstrap_there_are_no_differences(random_cases):
    case = random_cases[1]
    result = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s)
    comparison = Comparison.of(["x", "y"], [result, result])
    assert comparison.differences == {} and "differences" not in comparison.to_dict()


def test_the_table_marks_the_difference_intervals_that_miss_the_observed_difference():
    from tbfl.evaluation.compare import COLUMNS
    from tbfl.evaluation.simulate import simulate_array_case

    case = simulate_array_case(150, 40, events_per_clip=2.0, seed=2)  # many rare classes: biased under resampling
    options = dict(frame_hop_s=case.frame_hop_s, median_filter_s=0.0, bootstrap=20, bootstrap_seed=1)
    first = evaluate_scores(case.score_dict(), case.events, case.durations, case.classes, **options)
    second = evaluate_scores({clip: scores**3 for clip, scores in case.score_dict().items()}, case.events, case.durations,
                             case.classes, **options)
    comparison = Comparison.of(["a", "b"], [first, second])
    a, b = first.to_dict(), second.to_dict()
    shown = [key for key, _ in COLUMNS if a.get(key) is not None]
    missed = {key for key in shown if not comparison.differences["b"][key][1] <= b[key] - a[key] <= comparison.differences["b"][key][2]}
    assert missed  # this case has some
    lines = comparison.format_table().splitlines()
    row = next(line for line in reversed(lines) if line.startswith("b "))
    cells = row.split()[1:]
    assert [cell.endswith("*") for cell in cells] == [key in missed for key in shown]
    assert lines[-1].startswith("* the interval misses the observed difference")
