"""Bad input to `tbfl evaluate` and `tbfl tune-postprocess`: one line on stderr naming the problem, exit 2, checked
before the work (issue 26, defects 7-9)."""

import json
import math
import re

import pytest

from tbfl.cli import main
from tbfl.evaluation.scores import write_scores


@pytest.fixture(scope="module")
def files(tmp_path_factory, random_cases):
    """A scored case on disk and a post-processing file tuned on it (median filters and SEBBs)."""
    case, folder = random_cases[0], tmp_path_factory.mktemp("bad-inputs")
    write_scores(folder / "scores", case.scores, case.classes, case.frame_hop_s)
    rows = [f"{f}\t{on:.3f}\t{off:.3f}\t{label}\n" for f, on, off, label in case.events.itertuples(index=False)]
    (folder / "gt.tsv").write_text("filename\tonset\toffset\tevent_label\n" + "".join(rows))
    (folder / "durations.tsv").write_text("filename\tduration\n" + "".join(f"{c}.wav\t{s}\n" for c, s in case.durations.items()))
    inputs = ["--scores", str(folder / "scores"), "--ground-truth", str(folder / "gt.tsv"), "--durations", str(folder / "durations.tsv")]
    assert main(["tune-postprocess", *inputs, "--candidates-s", "0,0.3", "--out", str(folder / "median.json")]) == 0
    assert main(["tune-postprocess", *inputs, "--method", "sebb", "--step-filters-s", "0.32", "--merge-abs", "0.2",
                 "--merge-rel", "2", "--out", str(folder / "sebb.json")]) == 0
    return folder, inputs


def one_error_line(capsys, pattern: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tbfl ") and re.search(pattern, err), err
    return err


def edited(folder, name, tmp_path, change) -> str:
    data = json.loads((folder / name).read_text())
    path = tmp_path / f"edited-{name}"
    path.write_text(json.dumps(change(data)))
    return str(path)


@pytest.mark.parametrize("name, change, pattern", [
    ("median.json", lambda data: [data], "top level is a JSON list"),
    ("median.json", lambda data: {**data, "median_filter_frames": [3.7] * 10}, r"list of integers \(frames\), got \[3.7"),
    ("median.json", lambda data: {**data, "median_filter_frames": [True] * 10}, r"list of integers \(frames\), got \[True"),
    ("sebb.json", lambda data: {**data, "sebb": [{**p, "merge_threshold_abs": math.nan} for p in data["sebb"]]}, "merge thresholds must be >= 0, got nan"),
    ("sebb.json", lambda data: {**data, "sebb": [{**p, "step_filter_frames": 4.0} for p in data["sebb"]]}, "even integer length"),
])
def test_bad_postprocessing_files(files, tmp_path, capsys, name, change, pattern):
    folder, inputs = files
    path = edited(folder, name, tmp_path, change)
    assert main(["evaluate", *inputs, "--postprocess", path, "--allow-tuning-set", "--no-progress"]) == 2
    assert path in one_error_line(capsys, pattern)
    # detect reads the file before the model (a missing run would be the next error)
    assert main(["detect", str(tmp_path / "no-run"), str(tmp_path), "--out", str(tmp_path / "e.tsv"), "--postprocess", path]) == 2
    assert path in one_error_line(capsys, pattern)


@pytest.mark.parametrize("options, pattern", [
    (["--method", "sebb", "--merge-rel", "nan"], r"--merge-rel 'nan': expected one or more comma-separated numbers \(not NaN\)"),
    (["--method", "sebb", "--step-filters-s", "0"], "a step filter needs a length of at least one frame hop .* got 0 s"),
    (["--candidates-s", ""], "--candidates-s '': expected one or more"),
    (["--candidates-s", ","], "--candidates-s ',': expected one or more"),
])
def test_bad_tuning_candidates(files, tmp_path, capsys, options, pattern):
    folder, inputs = files
    assert main(["tune-postprocess", *inputs, *options, "--out", str(tmp_path / "p.json")]) == 2
    one_error_line(capsys, pattern)
    assert not (tmp_path / "p.json").exists()


def test_bootstrap_needs_two_resamples_and_memory(files, capsys):
    folder, inputs = files
    assert main(["evaluate", *inputs, "--bootstrap", "1", "--no-progress"]) == 2
    one_error_line(capsys, r"0 \(none\) or >= 2 \(an interval needs a spread of resamples\), got 1")
    assert main(["evaluate", *inputs, "--bootstrap", "1000000000", "--no-progress"]) == 2  # was: a warning of TBs, then ran
    one_error_line(capsys, r"--bootstrap 1000000000 would keep up to .* GB .* more than this machine's .* GB of memory; at most \d+ resamples fit")


def test_unwritable_outputs_are_refused_before_evaluating(files, tmp_path, capsys):
    folder, inputs = files
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["evaluate", *inputs, "--plots", str(blocker / "plots"), "--no-progress"]) == 2
    one_error_line(capsys, f"{re.escape(str(blocker / 'plots'))}: cannot write in this folder")
    assert capsys.readouterr().out == ""  # no table: nothing was evaluated
    assert main(["evaluate", *inputs, "--out", str(blocker / "m.json"), "--no-progress"]) == 2
    one_error_line(capsys, "cannot write in this folder")


def test_an_empty_operating_point_file_is_named(files, tmp_path, capsys):
    folder, inputs = files
    points = tmp_path / "points"
    points.mkdir()
    (points / "0.5.tsv").write_text("")
    assert main(["evaluate", "--detections", str(points), *inputs[2:], "--classes", "Speech,Dog"]) == 2
    one_error_line(capsys, re.escape(str(points / "0.5.tsv")) + ": empty file")
