"""Study 2's analysis (docs/study2/protocol.md) on archives of run summaries with known differences."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from tbfl.experiments import study2
from tbfl.experiments.statistics import paired_difference
from tbfl.experiments.study2 import BCE, FOCAL, H3_SCALES, H3_TARGETS, PAPER, TBFL

CLASSES = ("Short_a", "Short_b", "Long_a")
DURATIONS_S = (0.8, 1.5, 7.0)


def write_run(archive, dataset, configuration, seed, *, psds2, per_class=(0.5, 0.5, 0.5), stop="plateau (10 epochs)", k=290,
              weights=(0.5, 1.0, 2.0)):
    """A run summary as tbfl train archives it, with the values the analysis reads."""
    folder = archive / f"{dataset}-{configuration}_s{seed}"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump({"data": {"root": f"data/study2/{dataset}"}}))
    loss = configuration.split("_")[0]  # the configurations are named after their loss
    (folder / "class_weights.json").write_text(json.dumps({
        "loss": {"name": loss, "k": "auto"},  # every run records the recipe's k, used or not
        "classes": list(CLASSES), "weights": list(weights),
        **({"k": {"auto": True, "chosen": k, "target": 1.0}} if loss == "tbfl" else {}),
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


def test_h1_s_other_metrics_are_exploratory_without_holm_or_verdict(h1_archive):
    table = study2.h1_exploratory(study2.load_runs(h1_archive)).set_index("contrast")
    assert "verdict" not in table.columns and "Holm p" not in table.columns
    psds1 = table.loc[f"{TBFL} - {BCE}: PSDS1"]  # the fixture's PSDS1 is half its PSDS2: half the gains
    assert psds1["per-dataset differences"] == "+0.025 +0.030 +0.035 +0.040"
    assert float(psds1["p"]) == pytest.approx(stats.ttest_1samp([0.025, 0.03, 0.035, 0.04], 0).pvalue, abs=5e-4)
    assert table.loc[f"{TBFL} - {BCE}: long-event F1", "per-dataset differences"] == "+0.000 +0.000 +0.000 +0.000"


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


def test_h2_datasets_show_each_world_s_k_weight_spread_and_psds2_difference(tmp_path):
    archive = tmp_path / "runs"
    flat = study2.H2_WORLDS["flat"][0]
    write_run(archive, flat, FOCAL, 1, psds2=0.60)
    write_run(archive, flat, TBFL, 1, psds2=0.62, k=400, weights=(0.9, 1.0, 1.1))
    write_run(archive, PAPER[0], TBFL, 1, psds2=0.7)
    table = study2.h2_datasets(study2.load_runs(archive)).set_index("dataset")
    assert len(table) == 4 + 10  # the paper world and the 5 others, every dataset listed
    row = table.loc[flat]
    assert (row["world"], row["duration spread"], row["volume spread"]) == ("flat", 0, 0)
    assert (row["k chosen"], row["weights min-max"], row["weights max / min"], row["difference"]) == ("400", "0.90-1.10", "1.22", "+0.020")
    paper = table.loc[PAPER[0]]
    assert (paper["weights max / min"], paper[f"PSDS2 {TBFL}"], paper["difference"]) == ("4.00", "0.700", "")  # no focal run yet
    assert np.isnan(study2.load_runs(archive).set_index("configuration").loc[FOCAL, "weight_ratio"])  # the focal loss has no weights


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


#: H3's k chosen by each (scale, target) on the scale's two datasets: k: auto moves k with the V_c scale and the target.
H3_K = {(0.25, 0.25): (62, 66), (0.25, 1.0): (250, 260), (0.25, 4.0): (1000, 1100),
        (1.0, 0.25): (250, 270), (1.0, 1.0): (1000, 1100), (1.0, 4.0): (4000, 4400)}
#: Per (scale, other target): its PSDS2 - target 1's on the scale's two datasets. At scale 1.0 target 4 is 0.090 and 0.094
#: above target 1: p = 0.0138 alone, 0.055 after Holm over 4 (0.042 over 3, 0.028 over 2), so not confirmed.
H3_GAINS = {(0.25, 0.25): (-0.03, -0.05), (0.25, 4.0): (0.001, 0.003), (1.0, 0.25): (-0.06, -0.04), (1.0, 4.0): (0.090, 0.094)}


def write_h3(archive, gains=H3_GAINS, skip=()):
    """H3's 10 runs and H1's two reused TBFL seed-1 runs: target 1 at PSDS2 0.6, the others at 0.6 + their gain."""
    for scale, datasets in H3_SCALES.items():
        for target, config in H3_TARGETS.items():
            for i, dataset in enumerate(datasets):
                if (scale, target, dataset) not in skip:
                    gain = 0.0 if target == 1.0 else gains[scale, target][i]
                    write_run(archive, dataset, config, 1, psds2=0.6 + gain, k=H3_K[scale, target][i])
    return archive


def test_h3_auto_contrasts_over_each_scales_two_datasets_with_holm_over_four(tmp_path):
    result = study2.h3(study2.load_runs(write_h3(tmp_path / "runs")))
    table = result.auto.set_index("contrast")
    assert len(table) == 4 and set(table["datasets"]) == {2}
    t1 = stats.t.ppf(0.975, 1)  # 12.7: 1 degree of freedom
    p_values, labels = [], []
    for (scale, target), (first, second) in H3_GAINS.items():
        label = f"scale {scale:g}: target {target:g} - target 1 ({H3_TARGETS[target]} - {TBFL}): PSDS2"
        row, mean, half = table.loc[label], (first + second) / 2, t1 * abs(first - second) / 2
        assert row["per-dataset differences"] == f"{first:+.3f} {second:+.3f}"
        assert row["mean [95% CI]"] == f"{mean:+.3f} [{mean - half:+.3f}, {mean + half:+.3f}]"
        p_values.append(stats.ttest_1samp([first, second], 0).pvalue)
        labels.append(label)
    # Holm over exactly these 4: the i-th smallest p times (4 - i + 1), kept non-decreasing
    order = np.argsort(p_values)
    expected = np.maximum.accumulate(np.array(p_values)[order] * np.array([4, 3, 2, 1]))
    for rank, i in enumerate(order):
        assert float(table.loc[labels[i], "Holm p"]) == pytest.approx(min(expected[rank], 1.0), abs=5e-4)
    strongest = table.loc[labels[3]]
    assert float(strongest["Holm p"]) == pytest.approx(4 * p_values[3], abs=5e-4) and 0.05 < 4 * p_values[3] and 3 * p_values[3] < 0.05
    assert list(table["verdict"]) == ["inconclusive", "refuted", "inconclusive", "inconclusive"]  # +0.002 [-0.011, +0.015]: inside +-0.02
    assert result.auto_verdict == "confirmed"  # no other target confirmed above target 1


def test_h3_auto_is_refuted_when_another_target_is_confirmed_above_target_1(tmp_path):
    gains = {**H3_GAINS, (1.0, 4.0): (0.0895, 0.0905)}  # t = 180, p = 0.0035, Holm over 4: 0.014
    result = study2.h3(study2.load_runs(write_h3(tmp_path / "runs", gains)))
    assert list(result.auto["verdict"]) == ["inconclusive", "refuted", "inconclusive", "confirmed"]
    assert float(result.auto["Holm p"].iloc[3]) == pytest.approx(4 * stats.ttest_1samp([0.0895, 0.0905], 0).pvalue, abs=5e-4)
    assert result.auto_verdict == "refuted"


def test_h3_reads_the_k_each_run_chose_and_whether_the_best_k_moves_up_with_the_scale(tmp_path):
    runs = study2.load_runs(write_h3(tmp_path / "runs"))
    assert runs.set_index("run").loc[f"d1v1s1-402-{H3_TARGETS[4.0]}_s1", "k"] == 4400
    result = study2.h3(runs)
    moves = result.moves.set_index(["V_c scale", "target"])
    assert moves.loc[("1", "4"), "k chosen (per dataset)"] == "401: 4000, 402: 4400" and moves.loc[("1", "4"), "mean k"] == "4200"
    assert moves.loc[("0.25", "0.25"), "k chosen (per dataset)"] == "201: 62, 202: 66"
    assert moves.loc[("1", "4"), "mean PSDS2"] == "0.692" and moves.loc[("0.25", "0.25"), "mean PSDS2"] == "0.560"
    # best mean PSDS2: target 4 at both scales (0.602 and 0.692), k 1050 at 0.25 and 4200 at 1.0
    assert list(moves["best at this scale"]) == ["", "", "best", "", "", "best"]
    assert result.best_k == {0.25: 1050.0, 1.0: 4200.0} and result.moves_reading == "yes"


def test_h3_moves_reads_no_when_the_best_k_at_full_scale_is_not_larger(tmp_path):
    gains = {**H3_GAINS, (1.0, 0.25): (0.03, 0.05), (1.0, 4.0): (-0.06, -0.04)}  # at scale 1.0 target 0.25 is best: k 260
    result = study2.h3(study2.load_runs(write_h3(tmp_path / "runs", gains)))
    assert result.best_k == {0.25: 1050.0, 1.0: 260.0} and result.moves_reading == "no"
    assert list(result.moves["best at this scale"]) == ["", "", "best", "best", "", ""]


def test_h3_is_pending_until_every_run_including_the_reused_h1_ones_is_archived(tmp_path):
    complete = study2.load_runs(write_h3(tmp_path / "runs"))
    assert len(complete) == 12
    without_h1 = complete[complete["run"] != f"{PAPER[1]}-{TBFL}_s1"]  # the reused H1 run of dataset 202
    result = study2.h3(without_h1)
    assert set(result.auto["verdict"]) == {"pending"} and result.auto_verdict == "pending"
    assert result.moves_reading == "pending" and 0.25 not in result.best_k
    # scale 1.0 is complete: its contrasts keep their numbers, only their verdicts wait
    assert list(result.auto["datasets"]) == [1, 1, 2, 2] and result.auto["mean [95% CI]"].iloc[3].startswith("+0.092 [")
    assert result.best_k == {1.0: 4200.0}
    one_missing = study2.h3(complete[complete["run"] != f"d1v1s1-401-{H3_TARGETS[0.25]}_s1"])
    assert set(one_missing.auto["verdict"]) == {"pending"} and one_missing.moves_reading == "pending"


def test_a_single_dataset_is_labelled_1_dataset_not_1_seed(h1_archive):
    runs = study2.load_runs(h1_archive)
    one = runs[runs["dataset"] == PAPER[0]]
    assert study2.h1(one)["mean [95% CI]"].iloc[0] == "+0.050 (1 dataset)"  # seeds 1 and 2 (+0.04, +0.06) averaged first
    league, against = study2.h4(one[one["seed"] == 1])
    assert league.set_index("loss").loc[BCE, "PSDS2"] == "+0.500 (1 dataset)" and against["mean [95% CI]"].iloc[0] == "-0.040 (1 dataset)"
    ranks = league.set_index("loss")["mean rank (PSDS2)"]
    assert ranks[TBFL] == "1.00" and ranks[BCE] == "2.00" and ranks[FOCAL] == ""  # a loss without runs has no rank
    assert study2.per_class_table(one, TBFL, BCE, PAPER)["mean [95% CI]"].iloc[0] == "+0.000 (1 dataset)"
    single = paired_difference({1: 0.1}, {1: 0.0})
    assert single.format() == "+0.100 (1 seed)" and single.format(unit="dataset") == "+0.100 (1 dataset)"  # study 1 unchanged


def test_report_has_h3_between_h2_and_h4(tmp_path):
    out = tmp_path / "report"
    text = study2.write_report(write_h3(tmp_path / "runs"), out).read_text()
    assert text.index("## H2") < text.index("## H3") < text.index("## H4")
    assert "weak test: 2 datasets per scale, 1 degree of freedom" in text
    assert "| 1 | 4 | tbfl_kauto4_g2 | 2 | 401: 4000, 402: 4400 | 4200 | 401: 0.690, 402: 0.694 | 0.692 | best |" in text
    assert "larger at scale 1.0: **yes**" in text and "interval\" (confirmed when" in text and text.rstrip().endswith("|")
    assert "best k's interval\" (confirmed when no other target is confirmed above target 1, refuted when one is): **confirmed**" in text


def test_only_tbfl_runs_carry_a_k(h1_archive):
    """A BCE run's class_weights.json records the recipe's k: auto too; it is not a k that run used."""
    runs = study2.load_runs(h1_archive).set_index("run")
    assert runs.loc[f"{PAPER[0]}-{TBFL}_s1", "k"] == 290
    assert pd.isna(runs.loc[f"{PAPER[0]}-{BCE}_s1", "k"])


def test_learning_curves_gather_every_run_of_a_configuration_and_the_report_draws_them(h1_archive, tmp_path):
    """Each run's learning_curve.csv, grouped by configuration over datasets and seeds; runs without one are left out."""
    first = h1_archive / f"{PAPER[0]}-{TBFL}_s1"
    (first / "learning_curve.csv").write_text(
        "epoch,step,student_objective,teacher_objective,monitor\n1,75,0.1,0.2,0.1\n2,150,0.3,0.4,0.3\n")
    (h1_archive / f"{PAPER[1]}-{TBFL}_s2" / "learning_curve.csv").write_text(
        "epoch,step,student_objective,teacher_objective,monitor\n1,75,0.15,0.25,0.15\n")
    (h1_archive / f"{PAPER[0]}-{BCE}_s1" / "learning_curve.csv").write_text(
        "epoch,step,student_objective,teacher_objective,monitor\n1,75,0.5,0.6,0.5\n")
    curves = study2.learning_curves(study2.load_runs(h1_archive), study2.load_configurations(h1_archive))
    assert sorted(curves) == [BCE, TBFL] and len(curves[TBFL]) == 2 and len(curves[BCE]) == 1
    assert any(np.array_equal(c, [[0.1, 0.2], [0.3, 0.4]]) for c in curves[TBFL])
    text = study2.write_report(h1_archive, tmp_path / "report").read_text()
    assert "## Learning curves" in text and "![learning curves](figures/learning_curves.png)" in text
    assert (tmp_path / "report" / "figures" / "learning_curves.png").stat().st_size > 10_000
    assert "## Learning curves" not in study2.write_report(write_h3(tmp_path / "h3"), tmp_path / "h3_report").read_text()


def test_h2_exploratory_repeats_the_slopes_on_short_event_f1_and_reads_the_gain_against_the_weights_spread(tmp_path):
    """Short-event F1 gains grow by 0.05 per duration level; the PSDS2 gain is 0.01 per unit of ln(max / min w_c)."""
    archive = tmp_path / "runs"
    datasets = PAPER + tuple(d for pair in study2.H2_WORLDS.values() for d in pair)
    ratios = {}
    for i, name in enumerate(datasets):
        d = study2.DatasetName.parse(name).d
        ratios[name] = 1.5 + 0.5 * i  # weights (1, ratio) normalised to sum to 2 below
        weights = (2 / (1 + ratios[name]), 2 * ratios[name] / (1 + ratios[name]), 1.0)
        short = 0.5 + 0.05 * d
        write_run(archive, name, FOCAL, 1, psds2=0.5)
        write_run(archive, name, TBFL, 1, psds2=0.5 + 0.01 * np.log(ratios[name]), per_class=(short, short, 0.5), weights=weights)
    table = study2.h2_exploratory(study2.load_runs(archive)).set_index("contrast")
    assert "verdict" not in table.columns and "Holm p" not in table.columns
    duration = table.loc[f"duration spread: slope of {TBFL} - {FOCAL} (short-event F1)"]
    assert duration["datasets"] == 8 and duration["estimate [95% CI]"].startswith("+0.050 per level")
    spread = table.loc[f"{TBFL} - {FOCAL} (PSDS2) against ln(weights max / min)"]
    assert spread["datasets"] == 14 and spread["estimate [95% CI]"].startswith("+0.010 per unit")
    assert spread["p"] == "0.000"  # an exact line
    assert set(table.index) == {*(f"{axis} spread: slope of {TBFL} - {FOCAL} (short-event F1)" for axis in ("duration", "volume")),
                                f"flat world: {TBFL} - {FOCAL} inside (-0.02, +0.02) (short-event F1)", spread.name}


def test_h2_leaves_out_datasets_where_the_metric_is_undefined(tmp_path):
    """No short class in the duration-flat world (every event about 4 s): its short-event F1 is NaN, left out."""
    archive = tmp_path / "runs"
    for name in PAPER + study2.H2_WORLDS["duration-flat"] + study2.H2_WORLDS["duration-wide"]:
        d = study2.DatasetName.parse(name).d
        write_run(archive, name, FOCAL, 1, psds2=0.5)
        write_run(archive, name, TBFL, 1, psds2=0.5, per_class=(0.5 + 0.05 * d, 0.5 + 0.05 * d, 0.5))
    runs = study2.load_runs(archive)
    runs.loc[runs["d"] == 0, "short_f1"] = np.nan
    duration = study2.h2(runs, "short_f1").iloc[0]
    assert duration["datasets"] == 6 and duration["estimate [95% CI]"].startswith("+0.050 per level")


def test_per_class_table_shows_each_class_s_weight_and_the_gain_s_slope_against_it(tmp_path):
    """A class's TBFL - BCE difference is 0.1 * ln(w_c) on every dataset: the slope over the classes is 0.1."""
    archive = tmp_path / "runs"
    weights = (0.5, 1.0, 2.0)
    for dataset in PAPER:
        write_run(archive, dataset, BCE, 1, psds2=0.5)
        write_run(archive, dataset, TBFL, 1, psds2=0.5, weights=weights, per_class=tuple(0.5 + 0.1 * np.log(w) for w in weights))
    runs = study2.load_runs(archive)
    table = study2.per_class_table(runs, TBFL, BCE, PAPER).set_index("class")
    assert table[f"w_c of {TBFL}"].to_dict() == {"Long_a": "2.00", "Short_a": "0.50", "Short_b": "1.00"}
    assert table.loc["Long_a", "mean [95% CI]"].startswith("+0.069")  # 0.1 ln 2
    sentence = study2.class_gain_against_weight(runs, TBFL, BCE, PAPER)
    assert sentence.startswith("Over the 3 classes, a class's mean difference against ln of its mean weight: +0.100 per unit of ln w_c")
    assert study2.per_class_table(runs, BCE, TBFL, PAPER)[f"w_c of {BCE}"].eq("").all()  # BCE has no weights
    assert study2.class_gain_against_weight(runs, BCE, TBFL, PAPER) == ""


#: H4: each other loss's PSDS2 - TBFL's on datasets 201-203 (TBFL at 0.6). ASL, BCE and OWBCE are far below TBFL
#: (t over 2 df: p 0.0007, 0.0028, 0.0092; Holm over 6: 0.004, 0.014, 0.037); the rest straddle 0.
H4_DIFFERENCES = {BCE: (-0.10, -0.11, -0.12), FOCAL: (0.01, -0.01, 0.0), study2.CBFL: (-0.02, 0.03, -0.01),
                  "asl": (-0.20, -0.21, -0.22), "labce": (0.05, 0.0, -0.05), "owbce": (-0.05, -0.06, -0.07)}


def h4_archive(archive):
    """Seed 1 of the league on datasets 201-203; class Short_a's event-F1 is 0.4 + 0.1 x the dataset's index for TBFL
    and 0.3 for every other loss."""
    for index, dataset in enumerate(PAPER[:3]):
        write_run(archive, dataset, TBFL, 1, psds2=0.6, per_class=(0.4 + 0.1 * index, 0.5, 0.5))
        for config, differences in H4_DIFFERENCES.items():
            write_run(archive, dataset, config, 1, psds2=0.6 + differences[index], per_class=(0.3, 0.5, 0.5))
    return archive


def test_h4_contrasts_each_loss_with_tbfl_with_holm_over_six_and_ranks_the_losses(tmp_path):
    runs = study2.load_runs(h4_archive(tmp_path / "runs"))
    league, against = study2.h4(runs)
    against = against.set_index("contrast")
    asl = against.loc[f"asl - {TBFL}: PSDS2"]
    expected = stats.ttest_1samp(H4_DIFFERENCES["asl"], 0.0)
    assert expected.pvalue < 0.001 and asl["p"] == "<0.001" and asl["Holm p"] == f"{min(1.0, 6 * expected.pvalue):.3f}"
    assert asl["mean [95% CI]"].startswith("-0.210 [") and asl["verdict"] == "refuted"  # TBFL higher
    assert against.loc[f"owbce - {TBFL}: PSDS2", "Holm p"] == "0.037"  # 4 x 0.0092: third smallest of 6
    assert against.loc[f"{FOCAL} - {TBFL}: PSDS2", "verdict"] == "inconclusive"
    ranks = league.set_index("loss")["mean rank (PSDS2)"]
    # TBFL is 3rd, tied 2nd-3rd with labce and tied 1st-2nd with focal: (3 + 2.5 + 1.5) / 3
    assert ranks[TBFL] == "2.33" and ranks["labce"] == "2.50" and ranks["asl"] == "7.00"


def test_h4_per_class_table_gives_each_loss_s_mean_class_f1_and_the_class_s_length(tmp_path):
    archive = h4_archive(tmp_path / "runs")
    table = study2.h4_per_class(study2.load_runs(archive)).set_index("class")
    assert list(table.columns) == ["mean event (s)", *study2.LEAGUE]
    assert table.loc["Short_a", TBFL] == "0.500" and table.loc["Short_a", "asl"] == "0.300"  # 0.4, 0.5, 0.6 averaged
    assert table.loc["Long_a", "mean event (s)"] == "7.0"
    text = study2.write_report(archive, tmp_path / "out").read_text()
    assert "Per class (descriptive)" in text and text.index("Per class (descriptive)") < text.index("## Exploratory: per class")
