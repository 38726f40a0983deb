"""Study 2's analysis (docs/study2/protocol.md) on archives of run summaries with known differences."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from tbfl.experiments import study2
from tbfl.experiments.study2 import BCE, FOCAL, PAPER, TBFL

CLASSES = ("Short_a", "Short_b", "Long_a")
DURATIONS_S = (0.8, 1.5, 7.0)


def write_run(archive, dataset, configuration, seed, *, psds2, per_class=(0.5, 0.5, 0.5), stop="plateau (10 epochs)"):
    """A run summary as tbfl train archives it, with the values the analysis reads."""
    folder = archive / f"{dataset}-{configuration}_s{seed}"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump({"data": {"root": f"data/study2/{dataset}"}}))
    (folder / "class_weights.json").write_text(json.dumps({
        "k": {"auto": True, "chosen": 290, "target": 1.0},
        "statistics": {"classes": list(CLASSES), "avg_event_duration_s": list(DURATIONS_S)},
    }))
    f1 = {name: {"f1": value} for name, value in zip(CLASSES, per_class)}
    (folder / "metrics.json").write_text(json.dumps({
        "psds1": psds2 / 2, "psds2": psds2, "event_f1": 0.4, "event_f1_best": 0.45, "intersection_f1": 0.6, "checkpoint": "best.ckpt",
        "event_f1_synth_threshold": float(np.mean(per_class)), "details": {"event_f1_synth_threshold": {"per_class": f1}},
        "training": {"stop_reason": stop, "epochs_trained": 40, "best_epoch": 30},
    }))


@pytest.fixture
def h1_archive(tmp_path):
    """H1 complete: TBFL - BCE on PSDS2 is +0.05, +0.06, +0.07, +0.08 per dataset (seed differences +-0.01 around it);
    short-event F1 differences 0.1 on every dataset (long events unchanged)."""
    archive = tmp_path / "runs"
    for dataset, gain in zip(PAPER, (0.05, 0.06, 0.07, 0.08)):
        for seed, jitter in ((1, -0.01), (2, +0.01)):
            write_run(archive, dataset, BCE, seed, psds2=0.5)
            write_run(archive, dataset, TBFL, seed, psds2=0.5 + gain + jitter, per_class=(0.6, 0.6, 0.5))
    return archive


def test_h1_tests_over_datasets_with_holm_over_its_two_contrasts(h1_archive):
    table = study2.h1(study2.load_runs(h1_archive))
    psds2, short = table.iloc[0], table.iloc[1]
    gains = np.array([0.05, 0.06, 0.07, 0.08])
    half = stats.t.ppf(0.975, 3) * gains.std(ddof=1) / 2
    assert psds2["per-dataset differences"] == "+0.050 +0.060 +0.070 +0.080"
    assert psds2["mean [95% CI]"] == f"+0.065 [{0.065 - half:+.3f}, {0.065 + half:+.3f}]"
    p = stats.ttest_1samp(gains, 0).pvalue
    assert float(psds2["Holm p"]) == pytest.approx(p, abs=5e-4)  # the larger of 2 p-values keeps factor 1 (the other is 0)
    assert psds2["verdict"] == "confirmed"
    assert short["per-dataset differences"] == "+0.100 +0.100 +0.100 +0.100" and short["verdict"] == "confirmed"


def test_a_block_with_a_missing_or_capped_run_is_pending(h1_archive):
    runs = study2.load_runs(h1_archive)
    assert set(study2.h1(runs.iloc[1:])["verdict"]) == {"pending"}
    capped = h1_archive / f"{PAPER[0]}-{TBFL}_s1" / "metrics.json"
    values = json.loads(capped.read_text())
    values["training"]["stop_reason"] = "max_epochs (150)"
    capped.write_text(json.dumps(values))
    runs = study2.load_runs(h1_archive)
    assert not runs.loc[runs["run"] == capped.parent.name, "plateau"].item()
    # the capped run does not count: that dataset's difference is seed 2's alone (0.05 + 0.01)
    assert study2.dataset_differences(runs, TBFL, BCE, "psds2", PAPER)[PAPER[0]] == pytest.approx(0.06)


def test_h2_slopes_and_the_flat_world(tmp_path):
    """Gains grow by 0.03 per duration level and not with volume; the flat world's gains are 0.001 and -0.001."""
    archive = tmp_path / "runs"
    gains = {name: 0.03 * study2.DatasetName.parse(name).d for name in PAPER}
    for world, datasets in study2.H2_WORLDS.items():
        for i, name in enumerate(datasets):
            parsed = study2.DatasetName.parse(name)
            gains[name] = 0.001 * (1 - 2 * i) if world == "flat" else 0.03 * parsed.d + 0.002 * (1 - 2 * i)
    for name, gain in gains.items():
        write_run(archive, name, FOCAL, 1, psds2=0.5)
        write_run(archive, name, TBFL, 1, psds2=0.5 + gain)
    table = study2.h2(study2.load_runs(archive))
    duration, volume, flat = table.iloc[0], table.iloc[1], table.iloc[2]
    assert duration["datasets"] == 8 and duration["estimate [95% CI]"].startswith("+0.030 per level")
    assert duration["verdict"] == "confirmed"
    assert volume["estimate [95% CI]"].startswith("+0.000 per level") and volume["verdict"] == "refuted"  # shown inside +-0.02
    low, high, _ = study2.equivalence_interval([0.001, -0.001], 0.02)  # 1 degree of freedom: +-6.3 standard errors
    assert (low, high) == pytest.approx((-stats.t.ppf(0.95, 1) * 0.001, stats.t.ppf(0.95, 1) * 0.001))
    assert flat["estimate [95% CI]"] == f"+0.000 [{low:+.3f}, {high:+.3f}] (90%)"
    assert flat["verdict"] == "confirmed"  # +-0.006, inside +-0.02


def test_report_writes_tables_runs_csv_with_datasets_and_the_figure(h1_archive, tmp_path):
    out = tmp_path / "report"
    report = study2.write_report(h1_archive, out, commit="4e3e7d7")
    text = report.read_text()
    assert "| H1 | 16 | 16 | 16 |" in text and "| H2 | 24 | 0 | 0 |" in text
    assert "confirmed" in text and "`4e3e7d7`" in text
    table = pd.read_csv(out / "runs.csv")
    assert set(table["dataset"]) == set(PAPER) and len(table) == 16
    assert (out / "figures" / "gain_vs_imbalance.png").stat().st_size > 0


def test_cli_report_study2(h1_archive, tmp_path, capsys):
    from tbfl.cli import main

    assert main(["report", str(h1_archive), "--out", str(tmp_path / "out"), "--study2"]) == 0
    assert (tmp_path / "out" / "report.md").is_file() and "report:" in capsys.readouterr().out


def test_report_before_the_first_run_finishes(tmp_path):
    (tmp_path / "runs").mkdir()
    text = study2.write_report(tmp_path / "runs", tmp_path / "out").read_text()
    assert "| H1 | 16 | 0 | 0 |" in text and "pending" in text
