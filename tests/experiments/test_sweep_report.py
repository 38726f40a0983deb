"""A real sweep on the tiny preset, its resumption, and the report made from it."""

import json
import math
import re

import numpy as np
import pytest
import yaml
from pathlib import Path

from tbfl.cli import main
from tbfl.experiments.runs import GAMMA_SWEEP, K_SWEEP, run_name
from tbfl.experiments.sweep import plan_runs
from tbfl.experiments.tables import logit_summary


def test_plan_deduplicates_and_names_runs():
    grid = {
        "seeds": [1, 2],
        "runs": [
            {"loss": {"name": "bce"}},
            {"loss": {"name": "tbfl", "gamma": 2.0}, "sweep": {"loss.k": [10, 1000, "inf"]}},
            {"loss": {"name": "tbfl", "k": 1000}, "sweep": {"loss.gamma": [0.5, 2.0]}},
        ],
    }
    names = [run.name for run in plan_runs(grid)]
    assert names.count("tbfl_k1000_g2_s1") == 1  # listed by both sweeps, run once
    assert len(names) == len(set(names)) == 2 * (1 + 3 + 1)
    assert run_name({"loss.name": "tbfl", "loss.uniform_weights": True, "loss.gamma": 2}) == "tbfl-uniform_g2"
    assert run_name({"loss.name": "focal", "loss.gamma": 0.5}) == "focal_g0.5"


def test_sweeps_read_back_the_names_the_grid_gives():
    """A sweep point is a name run_name gives with the other settings fixed; its value is spelled as in the name."""
    for k in (10, 250.0, "inf", 1e4):
        name = run_name({"loss.name": "tbfl", "loss.k": k, "loss.gamma": 2})
        assert K_SWEEP.value(name) == name.split("_")[1][1:] and GAMMA_SWEEP.value(name) == ("2" if k in (1000,) else None)
    assert K_SWEEP.value("tbfl_k1000_g2") == "1000" and GAMMA_SWEEP.value("tbfl_k1000_g2") == "2"
    assert GAMMA_SWEEP.value("tbfl_k1000_g0.5") == "0.5" and K_SWEEP.value("tbfl_k1000_g0.5") is None
    assert K_SWEEP.value(run_name({"loss.name": "tbfl", "loss.k": "auto", "loss.gamma": 2})) is None  # k: auto is no sweep point
    points = K_SWEEP.points({name: name for name in ("tbfl_kauto_g2", "tbfl_kinf_g2", "tbfl_k250_g2", "tbfl_k1e+06_g2", "bce")})
    assert [value for value, _ in points] == ["250", "1e+06", "inf"]
    for other in ("bce", "focal_g2", "tbfl-uniform_g2", "cbfl_b0.999_g2", "tbfl_k250_g2_a0.25", "tbfl_kfoo_g2", "tbfl_k1000_g2_s1",
                  "d1v1s0.25-201-tbfl_k1000_g2", "asl"):
        assert K_SWEEP.value(other) is None and GAMMA_SWEEP.value(other) is None


def test_runs_on_several_datasets_are_named_by_their_dataset():
    """One grid over datasets (study 2): the data.root folder prefixes the name; k: auto and other losses are named."""
    grid = {
        "seeds": [1, 2],
        "runs": [
            {"data": {"root": "data/study2/d1v1s0.25-201"}, "loss": {"name": "bce"}},
            {"data": {"root": "data/study2/d1v1s0.25-201"}, "loss": {"name": "tbfl", "k": "auto", "gamma": 2.0}},
            {"data": {"root": "data/study2/d0v0s0.25-301"}, "loss": {"name": "tbfl", "k": "auto", "gamma": 2.0}},
            {"data": {"root": "data/study2/d0v0s0.25-301"}, "loss": {"name": "asl"}, "seeds": [1]},
        ],
    }
    runs = plan_runs(grid)
    assert [run.name for run in runs] == [
        "d1v1s0.25-201-bce_s1", "d1v1s0.25-201-bce_s2", "d1v1s0.25-201-tbfl_kauto_g2_s1", "d1v1s0.25-201-tbfl_kauto_g2_s2",
        "d0v0s0.25-301-tbfl_kauto_g2_s1", "d0v0s0.25-301-tbfl_kauto_g2_s2", "d0v0s0.25-301-asl_s1",
    ]
    assert dict(runs[0].overrides)["data.root"] == "data/study2/d1v1s0.25-201"


def test_bad_grid_is_reported(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("seeds: [1]\nrunz: []\n")
    with pytest.raises(ValueError, match="grid.yaml"):
        plan_runs(yaml.safe_load(grid.read_text()), where=str(grid))


@pytest.fixture(scope="module")
def swept(tiny_config, tmp_path_factory):
    """bce + TBFL at k = 100 and 1000, one seed, 2 epochs each, through the CLI."""
    base = tmp_path_factory.mktemp("sweep")
    config = tiny_config
    grid = base / "grid.yaml"
    grid.write_text(yaml.safe_dump({"seeds": [1], "runs": [{"loss": {"name": "bce"}}, {"loss": {"name": "tbfl", "gamma": 2.0}, "sweep": {"loss.k": [100, 1000]}}]}))
    runs = base / "runs"
    assert main(["sweep", "--config", str(config), "--grid", str(grid), "--out", str(runs), "--no-progress"]) == 0
    return config, grid, runs


@pytest.mark.slow  # trains a tiny model
def test_archive_holds_run_summaries_and_counts_as_finished(swept, tmp_path, capsys):
    """A fresh clone has only the committed archive: the sweep must not train those runs again."""
    import pandas as pd

    config, grid, runs = swept
    archive = tmp_path / "study"
    assert main(["sweep", "--config", str(config), "--grid", str(grid), "--out", str(runs), "--archive", str(archive), "--no-progress"]) == 0
    archived = sorted(p.name for p in (archive / "runs").iterdir())
    assert archived == ["bce_s1", "tbfl_k1000_g2_s1", "tbfl_k100_g2_s1"]
    for name in ("config.yaml", "class_weights.json", "learning_curve.csv", "weak_validation_logits.npz", "validation_scores.npz", "metrics.json"):
        assert (archive / "runs" / "bce_s1" / name).is_file(), name
    assert not (archive / "runs" / "bce_s1" / "checkpoints").exists()
    table = pd.read_csv(archive / "runs.csv")
    assert list(table["run"]) == ["bce_s1", "tbfl_k100_g2_s1", "tbfl_k1000_g2_s1"]  # natural order
    assert list(table["epochs_trained"]) == [2, 2, 2] and set(table["stop_reason"]) == {"max_epochs (2)"}
    assert set(table["dataset"]) == {Path(yaml.safe_load(config.read_text())["data"]["root"]).name}
    bce = json.loads((runs / "bce_s1" / "metrics.json").read_text())
    assert table.loc[0, "psds1"] == pytest.approx(bce["psds1"], abs=1e-4)
    capsys.readouterr()
    fresh = tmp_path / "fresh-clone-runs"  # no run folders at all
    assert main(["sweep", "--config", str(config), "--grid", str(grid), "--out", str(fresh), "--archive", str(archive), "--no-progress"]) == 0
    assert "3 already finished, 0 to go" in capsys.readouterr().out
    assert not fresh.exists() or not any(fresh.iterdir())


@pytest.mark.slow  # trains a tiny model
def test_sweep_runs_every_configuration(swept):
    _, _, runs = swept
    assert sorted(p.name for p in runs.iterdir()) == ["bce_s1", "tbfl_k1000_g2_s1", "tbfl_k100_g2_s1"]
    for run in runs.iterdir():
        assert (run / "metrics.json").is_file()
    weights = json.loads((runs / "tbfl_k100_g2_s1" / "class_weights.json").read_text())
    assert weights["loss"]["k"] == 100 and len(weights["weights"]) == 10


@pytest.mark.slow  # trains a tiny model
def test_rerun_skips_finished_runs(swept, capsys):
    config, grid, runs = swept
    before = {p: p.stat().st_mtime_ns for p in runs.glob("*/metrics.json")}
    assert main(["sweep", "--config", str(config), "--grid", str(grid), "--out", str(runs), "--no-progress"]) == 0
    assert "3 already finished, 0 to go" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in runs.glob("*/metrics.json")} == before


@pytest.mark.slow  # trains a tiny model
def test_report_makes_every_table_and_figure(swept, tmp_path):
    _, _, runs = swept
    out = tmp_path / "report"
    assert main(["report", str(runs), "--out", str(out)]) == 0
    for figure in ("fig2_sweeps.png", "fig3_classwise_f1.png", "fig4_relative_psds.png", "fig5_logit_histograms.png", "learning_curves.png", "psd_roc.png", "event_rolls.png"):
        path = out / "figures" / figure
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    text = (out / "report.md").read_text()
    for section in ("How the runs ended", "Learning curves", "Table 1", "Summary", "Paired differences: tbfl_k1000_g2 - bce", "PSD-ROC", "Event rolls",
                    "Fig. 2", "Fig. 3", "Fig. 4", "Fig. 5", "short events", "paper-equivalent k", "BCE median logit", "verdict after Holm"):
        assert section in text, section
    summary = json.loads((out / "summary.json").read_text())
    assert {row["configuration"] for row in summary["summary"]} == {"bce", "tbfl_k100_g2", "tbfl_k1000_g2"}
    bce_metrics = json.loads((runs / "bce_s1" / "metrics.json").read_text())
    row = next(r for r in summary["summary"] if r["configuration"] == "bce")
    assert row["psds1_mean"] == pytest.approx(bce_metrics["psds1"])
    assert (out / "summary.csv").read_text().startswith("configuration,seeds,")


def test_run_names_follow_the_base_config_and_collisions_are_errors():
    runs = plan_runs({"seeds": [1], "runs": [{"training": {"max_epochs": 3}}]}, base_loss={"name": "tbfl", "k": 250.0, "gamma": 2.0})
    assert [run.name for run in runs] == ["tbfl_k250_g2_s1"]
    with pytest.raises(ValueError, match="bce_s1 other settings"):
        plan_runs({"seeds": [1], "runs": [{"loss": {"name": "bce"}}, {"loss": {"name": "bce"}, "training": {"max_epochs": 3}}]})


def test_sweep_child_process_calls_the_training_entry_point(tiny_config, tmp_path):
    """The parallel sweep's child: an invalid run is one line in its log and exit 2; nothing goes through the CLI."""
    import subprocess
    import sys as _sys
    from pathlib import Path as _Path

    from tbfl.experiments.sweep import PlannedRun, _train_command

    run = PlannedRun("bad_s1", (("training.max_epochs", 0),))
    src = str(_Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(_train_command(tiny_config, tmp_path / "bad_s1", run), capture_output=True, text=True, env={"PYTHONPATH": src, "PATH": ""}, timeout=120)
    assert done.returncode == 2 and _sys.executable == _train_command(tiny_config, tmp_path, run)[0]
    assert done.stderr.strip().splitlines() == [f"tbfl sweep: {tmp_path / 'bad_s1'}: error: {tiny_config} with --set training.max_epochs=0: training.max_epochs must be >= 1, got 0"]


@pytest.mark.slow  # trains a tiny model
def test_postprocessing_comparison_tunes_on_one_half_and_evaluates_the_other(swept):
    """Three post-processings per run; the fixed filter's row equals a direct evaluation of the held-out half."""
    from tbfl.data.desed import read_durations_tsv, read_strong_tsv
    from tbfl.evaluation import clip_id, evaluate_scores
    from tbfl.experiments import postprocessing_views, validation_clips
    from tbfl.experiments.runs import load_runs

    _, _, runs = swept
    configurations = {name: config for name, config in load_runs(runs).items() if name in ("bce", "tbfl_k1000_g2")}
    run = configurations["bce"].runs[0]
    layout = validation_clips.dataset_layout(run)
    classes = tuple(json.loads(run.folder.class_weights.read_text())["classes"])
    table = postprocessing_views.postprocessing_table(configurations, layout, classes)
    assert len(table) == 6 and list(table["method"][:3]) == list(postprocessing_views.METHODS)

    filenames, probabilities, frame_hop_s = validation_clips.load_scores(run)
    held_out = sorted(filenames)[1::2]
    labels = read_strong_tsv(layout.path("validation_tsv"), classes)
    durations = {name: value for name, value in read_durations_tsv(layout.path("validation_durations_tsv")).items() if name in held_out}
    events = labels.events[labels.events["filename"].isin(held_out)]
    scores = {clip_id(name): frames for name, frames in zip(filenames, probabilities) if name in held_out}
    direct = evaluate_scores(scores, type(labels)(events, tuple(held_out)), durations, classes, frame_hop_s=frame_hop_s, median_filter_s=0.45)
    fixed = table[(table.configuration == "bce") & (table.method == "median 0.45 s")].iloc[0]
    assert fixed["PSDS1"] == pytest.approx(direct.psds1.value) and fixed["event-F1 (best thr.)"] == pytest.approx(direct.event_f1_best.f1_macro)

    gap = postprocessing_views.gap_by_method(table, "tbfl_k1000_g2", "bce")
    assert len(gap) == 9 and set(gap["verdict"]) == {"not shown"}  # one seed: no interval
    tuned = table[table.method == "tuned SEBB"].set_index("configuration")
    expected = f"{tuned.loc['tbfl_k1000_g2', 'PSDS2'] - tuned.loc['bce', 'PSDS2']:+.3f}"
    assert gap[(gap.method == "tuned SEBB") & (gap.metric == "PSDS2")]["mean difference [95% CI]"].iloc[0].startswith(expected)


@pytest.mark.slow  # trains a tiny model
def test_event_roll_detections_are_the_median_filtered_frames_above_the_threshold(swept):
    """Each system's black bars cover exactly the frames whose 7-frame median-filtered probability exceeds the threshold."""
    from tbfl.evaluation.postprocessing.frames import median_filter
    from tbfl.experiments import validation_clips
    from tbfl.experiments.runs import load_runs

    config, _, runs = swept
    run = load_runs(runs)["bce"].runs[0]
    layout = validation_clips.dataset_layout(run)
    classes = tuple(json.loads(run.folder.class_weights.read_text())["classes"])
    filenames, probabilities, frame_hop_s = validation_clips.load_scores(run)
    threshold = float(np.median(probabilities))  # a 2-epoch run: detections at this threshold, none at 0.5 perhaps
    features = yaml.safe_load(config.read_text()).get("features") or {}
    clips = validation_clips.event_roll_clips({"BCE": run}, layout, classes, filenames[:3], features, threshold=threshold)
    assert sum(len(clip["detections"]["BCE"]) for clip in clips) > 0
    for clip, frames in zip(clips, probabilities[:3]):
        covered = np.zeros(frames.shape, dtype=bool)
        for onset_s, offset_s, index in clip["detections"]["BCE"]:
            covered[index, int(round(onset_s / frame_hop_s)):int(round(offset_s / frame_hop_s))] = True
        np.testing.assert_array_equal(covered, median_filter(frames.astype(np.float64), 7) > threshold)


def test_logit_summary_gives_medians_and_positive_shares_sorted_by_duration():
    logits = {"BCE": [np.array([-3.0, -1.0, 2.0]), np.array([1.0, 2.0])], "TBFL": [np.array([0.5, -0.5, 1.5, 2.0]), np.zeros(0)]}
    table = logit_summary(logits, ["long", "short"], [8.0, 0.6])
    assert list(table["class"]) == ["short", "long"]
    assert table["BCE median logit"].tolist() == [1.5, -1.0]
    assert table["BCE logit > 0"].tolist() == pytest.approx([1.0, 1 / 3])
    assert math.isnan(table.loc[0, "TBFL median logit"]) and table.loc[1, "TBFL median logit"] == 1.0
    assert table.loc[1, "TBFL logit > 0"] == 0.75


def test_configurations_and_seeds_sort_by_the_numbers_in_their_names():
    from tbfl.experiments.runs import natural_order

    names = ["tbfl_kinf_g2", "tbfl_k1000_g2", "tbfl_k100_g2", "bce_s10", "tbfl_k10_g2", "tbfl_k1000_g0.5", "bce_s2", "tbfl_k10000_g2", "focal_g2"]
    assert sorted(names, key=natural_order) == [
        "bce_s2", "bce_s10", "focal_g2", "tbfl_k10_g2", "tbfl_k100_g2", "tbfl_k1000_g0.5", "tbfl_k1000_g2", "tbfl_k10000_g2", "tbfl_kinf_g2"]


def test_summary_spread_is_the_sample_std_of_the_committed_runs():
    """mean ± std over seeds is what pandas gives from docs/study/runs.csv: the sample std (n - 1), not the population std."""
    from pathlib import Path

    import pandas as pd

    from tbfl.experiments.runs import HEADLINE_METRICS, load_runs, summary_table

    study = Path(__file__).parents[2] / "docs" / "study"
    summary = summary_table(load_runs(study / "runs")).set_index("configuration")
    by_configuration = pd.read_csv(study / "runs.csv").groupby("configuration")
    for metric in HEADLINE_METRICS:
        several = by_configuration[metric].count() > 1
        expected = by_configuration[metric].agg(["mean", "std"])[several]
        assert np.allclose(summary.loc[expected.index, f"{metric}_mean"], expected["mean"], atol=5e-5)  # runs.csv rounds to 4 digits
        assert np.allclose(summary.loc[expected.index, f"{metric}_std"], expected["std"], atol=5e-5)
    bce = summary.loc["bce"]
    assert bce["seeds"] == 5 and round(bce["psds1_std"], 3) == 0.029  # 0.026 as a population std


@pytest.mark.parametrize("grid_text, message", [
    ("seeds: [x]\nruns:\n  - {loss: {name: bce}}\n", "run bce_sx: .*training.seed must be an integer"),
    ("seeds: [1]\nruns:\n  - {loss: {name: bce}}\n  - {loss: {name: focal, gamma: -1}}\n", "run focal_g-1_s1: .*loss.gamma must be >= 0"),
])
def test_every_run_is_checked_before_the_first_starts(tiny_config, tmp_path, capsys, grid_text, message):
    """Regression: the bad run was listed as 'to run' by --dry-run, and a sweep trained the runs before it, then aborted."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(grid_text)
    for dry_run in (["--dry-run"], []):
        assert main(["sweep", "--config", str(tiny_config), "--grid", str(grid), "--out", str(tmp_path / "runs"), "--no-progress", *dry_run]) == 2
        err = capsys.readouterr().err
        assert re.search(message, err) and err.count("\n") == 1, err
    assert not (tmp_path / "runs").exists()  # nothing trained


@pytest.mark.parametrize("grid_text, message", [
    ("seeds: [1]\nruns:\n  - {loss: {name: tbfl}, sweep: {loss.k: 10}}\n", "'sweep' maps dotted keys to non-empty lists"),
    ("seeds: [1]\nruns: {loss: {name: bce}}\n", "'runs' must be a list of entries"),
    ("- {loss: {name: bce}}\n", "a grid is a mapping"),
    ("seeds: []\nruns:\n  - {loss: {name: bce}}\n", "'seeds' must be a non-empty list"),
    ("seeds: [1]\nruns:\n  - bce\n", "run 1 must be a mapping"),
    ("seeds: [1]\nseeds: [2]\nruns:\n  - {loss: {name: bce}}\n", r"grid.yaml:2: .*duplicate key 'seeds'"),
])
def test_misshapen_grids_are_one_line_and_exit_2(tiny_config, tmp_path, capsys, grid_text, message):
    grid = tmp_path / "grid.yaml"
    grid.write_text(grid_text)
    assert main(["sweep", "--config", str(tiny_config), "--grid", str(grid), "--out", str(tmp_path / "runs"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "grid.yaml" in err and err.count("\n") == 1, err


@pytest.mark.slow  # trains a tiny model
def test_report_names_unfinished_runs(swept, tmp_path):
    """Regression: `tbfl report` silently left out runs without metrics.json."""
    import shutil

    from tbfl.experiments.runs import load_runs

    _, _, runs = swept
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    (copy / "tbfl_k100_g2_s1" / "metrics.json").unlink()  # as a run still training or killed
    with pytest.warns(UserWarning, match=r"1 unfinished run\(s\) left out of the report \(no metrics.json\): tbfl_k100_g2_s1$"):
        configurations = load_runs(copy)
    assert "tbfl_k100_g2" not in configurations and "bce" in configurations
