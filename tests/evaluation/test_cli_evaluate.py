"""``tbfl evaluate`` on real files: JSON, table, exit status 2 with a clear message on bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from tbfl.cli import main
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.scores import write_scores


@pytest.fixture
def files(tmp_path, random_cases):
    case = random_cases[2]
    write_scores(tmp_path / "scores", case.scores, case.classes, case.frame_hop_s)
    no_event_rows = [(f"{clip}.wav", "", "", "") for clip in case.scores if not (case.events["filename"] == f"{clip}.wav").any()]
    rows = [(f, f"{on:.3f}", f"{off:.3f}", label) for f, on, off, label in case.events.itertuples(index=False)] + no_event_rows
    (tmp_path / "gt.tsv").write_text("filename\tonset\toffset\tevent_label\n" + "".join("\t".join(r) + "\n" for r in rows))
    (tmp_path / "durations.tsv").write_text(
        "filename\tduration\n" + "".join(f"{clip}.wav\t{seconds}\n" for clip, seconds in case.durations.items())
    )
    return case, tmp_path


def run(tmp_path, *extra):
    return main([
        "evaluate", "--scores", str(tmp_path / "scores"), "--ground-truth", str(tmp_path / "gt.tsv"),
        "--durations", str(tmp_path / "durations.tsv"), "--no-progress", *extra,
    ])


def test_writes_json_and_prints_a_table(files, capsys):
    case, tmp_path = files
    assert run(tmp_path, "--out", str(tmp_path / "out" / "metrics.json")) == 0
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    expected = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s)
    assert written == json.loads(json.dumps(expected.to_dict()))
    table = capsys.readouterr().out
    macro = next(line for line in table.splitlines() if line.startswith("macro"))
    assert f"{written['psds1']:.3f}" in macro and "Vacuum_cleaner" in table
    assert f"PSDS1 {written['psds1_threshold_free']:.3f}" in table


def test_median_filter_option(files):
    case, tmp_path = files
    assert run(tmp_path, "--median-filter-s", "0", "--out", str(tmp_path / "m.json")) == 0
    assert json.loads((tmp_path / "m.json").read_text())["settings"]["median_filter_frames"] == 1


def test_scores_for_unknown_clips_exit_2(files, capsys):
    case, tmp_path = files
    write_scores(tmp_path / "scores", {"stray": np.zeros((10, 156))}, case.classes, case.frame_hop_s)
    assert run(tmp_path) == 2
    assert "tbfl evaluate: error: 1 clip(s) have scores but are not in the durations list (stray)" in capsys.readouterr().err


def test_nan_score_exit_2_with_file_and_line(files, capsys):
    case, tmp_path = files
    path = sorted((tmp_path / "scores").glob("*.tsv"))[3]
    table = pd.read_csv(path, sep="\t")
    table.loc[41, "Speech"] = np.nan
    table.to_csv(path, sep="\t", index=False)
    assert run(tmp_path) == 2
    assert f"{path}, line 43: column 'Speech' holds nan, not a finite number" in capsys.readouterr().err


def test_missing_score_directory_exit_2(files, capsys):
    _, tmp_path = files
    assert main(["evaluate", "--scores", str(tmp_path / "nope"), "--ground-truth", str(tmp_path / "gt.tsv"),
                 "--durations", str(tmp_path / "durations.tsv")]) == 2
    assert "score directory not found" in capsys.readouterr().err


def test_collar_psds_and_class_options_reach_the_evaluation(files):
    from tbfl.evaluation.settings import PSDS1, PsdsSettings

    case, tmp_path = files
    options = ["--onset-collar-s", "0.5", "--offset-collar-s", "0.4", "--offset-collar-rate", "0.1",
               "--psds1", "dtc=0.5,gtc=0.5", "--classes", ",".join(case.classes)]
    assert run(tmp_path, *options, "--out", str(tmp_path / "o.json")) == 0
    written = json.loads((tmp_path / "o.json").read_text())
    expected = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                               onset_collar_s=0.5, offset_collar_s=0.4, offset_collar_rate=0.1,
                               psds1=PsdsSettings(dtc=0.5, gtc=0.5, cttc=None, alpha_ct=0.0, alpha_st=1.0))
    assert written == json.loads(json.dumps(expected.to_dict()))
    assert written["event_f1"] != evaluate_scores(case.scores, case.events, case.durations, case.classes,
                                                  frame_hop_s=case.frame_hop_s).event_f1.f1_macro
    assert written["psds1"] != evaluate_scores(case.scores, case.events, case.durations, case.classes,
                                               frame_hop_s=case.frame_hop_s, psds1=PSDS1).psds1.value


def test_bad_psds_option_exit_2(files, capsys):
    _, tmp_path = files
    with pytest.raises(SystemExit) as exit_:
        run(tmp_path, "--psds2", "dtc=2")
    assert exit_.value.code == 2 and "PSDS dtc must be in [0, 1], got 2.0" in capsys.readouterr().err


def test_jobs_give_the_same_json_and_zero_jobs_exit_2(files, capsys):
    """--jobs reaches the evaluation (this small case is one block of classes: the forked workers themselves are
    tested in test_eval_blocks); same JSON, and a job count below 1 is refused."""
    case, tmp_path = files
    common = ("--bootstrap", "4", "--segment-length-s", "1", "--pipsds", "0,0.45")
    assert run(tmp_path, *common, "--out", str(tmp_path / "one.json")) == 0
    assert run(tmp_path, *common, "--jobs", "2", "--out", str(tmp_path / "two.json")) == 0
    assert (tmp_path / "one.json").read_text() == (tmp_path / "two.json").read_text()
    assert run(tmp_path, "--psds-only", "--jobs", "2", "--out", str(tmp_path / "psds.json")) == 0
    assert json.loads((tmp_path / "psds.json").read_text())["psds1"] == json.loads((tmp_path / "one.json").read_text())["psds1"]
    capsys.readouterr()
    assert run(tmp_path, "--jobs", "0") == 2
    assert "jobs must be at least 1, got 0" in capsys.readouterr().err


def test_psds_only_gives_the_full_evaluation_s_psds(files, capsys):
    """--psds-only (the block-wise path for large sets) equals the PSDS values of the full evaluation."""
    case, tmp_path = files
    assert run(tmp_path, "--out", str(tmp_path / "full.json")) == 0
    assert run(tmp_path, "--psds-only", "--out", str(tmp_path / "psds.json")) == 0
    full, psds_only = (json.loads((tmp_path / name).read_text()) for name in ("full.json", "psds.json"))
    for key in ("psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free"):
        assert psds_only[key] == pytest.approx(full[key], abs=1e-12), key
    assert "psds2_threshold_free" in capsys.readouterr().out
    assert run(tmp_path, "--psds-only", "--bootstrap", "10") == 2
    assert "drop --bootstrap" in capsys.readouterr().err


def test_an_unreadable_score_file_is_warned_about_and_left_out(files, capsys):
    """Regression: a macOS ._x.tsv (now skipped as hidden) or any binary .tsv in the scores folder aborted the evaluation."""
    case, tmp_path = files
    (tmp_path / "scores" / "._x.tsv").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64))
    (tmp_path / "scores" / "junk.tsv").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64))
    (tmp_path / "scores" / "bad-utf8.tsv").write_bytes(b"\xff\xfe\xfa binary")
    assert run(tmp_path, "--out", str(tmp_path / "m.json")) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 2)[:2] for line in err] == [["tbfl evaluate", "warning"]] * 2  # the hidden file: no word
    assert "bad-utf8.tsv: not a tab-separated score table" in err[0] and err[0].endswith("; left out")
    assert "junk.tsv: a binary file, not a tab-separated score table; left out" in err[1]
    expected = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s)
    assert json.loads((tmp_path / "m.json").read_text())["psds1"] == expected.psds1.value
