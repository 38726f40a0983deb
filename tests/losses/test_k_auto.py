"""``loss.k: auto``: k from the median over classes of floor(k r_c) / V_c, or from their geometric mean
(tbfl.weights.auto_k), and its plumbing."""

import json
import statistics

import numpy as np
import pytest

from tbfl.cli import main
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.data.table1 import PAPER_TABLE1
from tbfl.training.train import train_run
from tbfl.experiments.runs import run_name
from tbfl.weights import PAPER_GEOMEAN_SAMPLE_RATIO, auto_k, median_sample_ratio, time_balanced_weights

#: The ``small`` preset's V_c and r_c as study 1 measured them (docs/study/dataset_table.csv, seed 0).
SMALL_VOLUMES = (48, 24, 22, 27, 34, 14, 16, 17, 32, 18)
SMALL_RATIOS = (0.04331153092732162, 0.048723397191141805, 0.02958265546664896, 0.04103721903117633, 0.03758424914505794,
                0.1031740761645473, 0.15719313390218798, 0.08820013944686078, 0.3083933729539493, 0.14280022577110793)

#: Study 2's two duration-wide datasets (seeds 321 and 322; `tbfl stats --config cpu-small`, docs/k-auto.md): the
#: same V_c, and r_c whose middle classes fall on either side of a gap.
WIDE_VOLUMES = (48, 24, 22, 27, 34, 14, 16, 17, 32, 18)
WIDE_RATIOS_321 = (0.007827, 0.053772, 0.006994, 0.011255, 0.005651, 0.096892, 0.132833, 0.052383, 0.539021, 0.093372)
WIDE_RATIOS_322 = (0.008612, 0.013309, 0.007494, 0.007438, 0.009171, 0.05732, 0.11671, 0.02852, 0.619953, 0.131473)


def smallest_integer_k(volumes, ratios, target=1.0):
    """Independent brute force: the first integer k whose median over classes of floor(k r_c) / V_c reaches target."""
    for k in range(1, 100_000):
        values = sorted(int(k * r + 1e-9) / v for r, v in zip(ratios, volumes))
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        if median >= target:
            return k
    raise AssertionError("unreachable")


def test_table1_gives_exactly_the_papers_k():
    assert auto_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios) == 1000.0
    assert smallest_integer_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios) == 999  # 999..1007 share the median 1.0006
    assert median_sample_ratio(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, 1000) == pytest.approx((52 / 98 + 100 / 68) / 2)
    assert median_sample_ratio(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, 990) < 1.0


def test_small_gives_about_a_quarter_of_the_papers_k():
    k = auto_k(SMALL_VOLUMES, SMALL_RATIOS)
    assert k == 290.0  # the first two-digit k at or above the first integer that reaches the target
    assert smallest_integer_k(SMALL_VOLUMES, SMALL_RATIOS) == 284
    assert median_sample_ratio(SMALL_VOLUMES, SMALL_RATIOS, 250) == pytest.approx(0.897, abs=1e-3)
    # with the r_c the generator aims at (Table 1's) instead of those it produced, small's V_c give exactly a quarter
    assert auto_k(SMALL_VOLUMES, PAPER_TABLE1.frame_ratios) == 250.0


def test_target_moves_k_monotonically_and_is_validated():
    ks = [auto_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, target) for target in (0.25, 0.5, 1.0, 2.0)]
    assert ks == sorted(ks) and len(set(ks)) == 4
    for target in (0.5, 2.0):
        k = auto_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, target)
        integer = smallest_integer_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, target)
        digits = 10 ** (len(str(integer)) - 2)
        assert k == -(-integer // digits) * digits  # rounded up to two significant digits
    with pytest.raises(ValueError, match="target must be a finite number > 0"):
        auto_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, 0.0)
    with pytest.raises(ValueError, match="too many classes have r_c = 0"):
        auto_k([10, 10, 10], [0.0, 0.0, 1.0], classes=["a", "b", "c"])


def two_digit_geomean_k(volumes, ratios, target=1.0):
    """Independent: k = target x Table 1's geometric mean of 1000 r_c / V_c over this one's (r_c > 0), rounded up to
    two significant digits with decimal arithmetic."""
    from decimal import ROUND_CEILING, Decimal

    def geomean(vs, rs):
        return statistics.geometric_mean([r / v for v, r in zip(vs, rs) if r > 0])

    exact = Decimal(repr(target * geomean(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios) * 1000 / geomean(volumes, ratios)))
    step = Decimal(10) ** (exact.adjusted() - 1)
    return float((exact / step).quantize(Decimal("1e-9")).to_integral_value(ROUND_CEILING) * step)


def test_geomean_rule_is_pinned_to_table1_and_proportional_to_the_volumes():
    assert PAPER_GEOMEAN_SAMPLE_RATIO == pytest.approx(1000 * statistics.geometric_mean(
        [r / v for v, r in zip(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios)]), rel=1e-12)
    assert auto_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, rule="geomean") == 1000.0
    quarter = [v / 4 for v in PAPER_TABLE1.volumes]  # V_c / 4 at the same r_c: exactly a quarter of k
    assert auto_k(quarter, PAPER_TABLE1.frame_ratios, rule="geomean") == 250.0
    assert auto_k(SMALL_VOLUMES, SMALL_RATIOS, rule="geomean") == 250.0  # study 1's best k; the median gives 290
    for volumes, ratios in ((SMALL_VOLUMES, SMALL_RATIOS), (WIDE_VOLUMES, WIDE_RATIOS_321), (WIDE_VOLUMES, WIDE_RATIOS_322)):
        for target in (0.25, 1.0, 4.0):
            assert auto_k(volumes, ratios, target, rule="geomean") == two_digit_geomean_k(volumes, ratios, target)
    # a class without positive frames is left out of the mean instead of sending it to 0
    assert auto_k([*PAPER_TABLE1.volumes, 50], [*PAPER_TABLE1.frame_ratios, 0.0], rule="geomean", classes=[*PAPER_TABLE1.classes, "x"]) == 1000.0
    with pytest.raises(ValueError, match="every class has r_c = 0"):
        auto_k([10, 10], [0.0, 0.0], rule="geomean", classes=["a", "b"])
    with pytest.raises(ValueError, match="rule must be one of \\('median', 'geomean'\\), got 'mean'"):
        auto_k(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, rule="mean")


def test_geomean_rule_is_stable_where_the_median_jumps():
    """Study 2's duration-wide datasets: the median's middle class (Blender) crosses the gap between the short and
    the long classes, and the median's k more than doubles; the geometric mean moves by a fifth."""
    medians = [auto_k(WIDE_VOLUMES, ratios) for ratios in (WIDE_RATIOS_321, WIDE_RATIOS_322)]
    geomeans = [auto_k(WIDE_VOLUMES, ratios, rule="geomean") for ratios in (WIDE_RATIOS_321, WIDE_RATIOS_322)]
    assert medians == [390.0, 920.0]
    assert geomeans == [500.0, 600.0]


def test_cli_weights_prints_the_chosen_k(capsys):
    assert main(["weights", "--k", "auto", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["k"] == 1000.0 and out["k_auto_target"] == 1.0
    expected = time_balanced_weights(PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios, 1000)
    assert np.allclose([row["weight"] for row in out["classes"]], expected)
    assert main(["weights", "--k", "auto", "--volumes", *map(str, SMALL_VOLUMES), "--frame-ratios", *map(str, SMALL_RATIOS)]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("TBFL weights, k = 290 (k: auto, median_c floor(k r_c) / V_c >= 1)")
    assert main(["weights", "--k", "auto", "--k-auto-rule", "geomean", "--k-auto-target", "0.25", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["k"] == 250.0 and out["k_auto_rule"] == "geomean" and out["k_auto_target"] == 0.25


def test_cli_stats_prints_the_chosen_k(tiny_root, capsys):
    assert main(["stats", str(tiny_root), "--k", "auto", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    stats = measure_stats(DesedLayout(tiny_root))
    assert out["k"] == auto_k(stats.volumes, stats.frame_ratios) and out["k_auto_target"] == 1.0
    assert main(["stats", str(tiny_root), "--k", "auto", "--k-auto-target", "2"]) == 0
    assert f"TBFL weights at k = {auto_k(stats.volumes, stats.frame_ratios, 2.0):g} (k: auto, median_c floor(k r_c) / V_c >= 2)" in capsys.readouterr().out
    assert main(["stats", str(tiny_root), "--k", "auto", "--k-auto-rule", "geomean", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["k"] == auto_k(stats.volumes, stats.frame_ratios, rule="geomean") and out["k_auto_rule"] == "geomean"


@pytest.mark.parametrize(
    "override, message",
    [
        ("loss.k=autox", "loss.k must be a number > 0, 'inf' or 'auto', got 'autox'"),
        ("loss.k_auto_target=0", "loss.k_auto_target must be > 0, got 0"),
        ("loss.k_auto_target=abc", "loss.k_auto_target must be a number > 0, got 'abc'"),
        ("loss.k_auto_rule=mean", "loss.k_auto_rule must be one of ('median', 'geomean'), got 'mean'"),
    ],
)
def test_bad_k_settings_exit_2_with_one_line(tiny_config, tmp_path, capsys, override, message):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_config), "--out", str(out), "--set", override, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(message)
    assert not out.exists()


def test_training_records_the_chosen_k(make_recipe, tiny_root, tmp_path, capsys):
    recipe = make_recipe(loss__k="auto", loss__k_auto_target=0.5, training__max_epochs=1, training__limit_train_batches=1)
    result = train_run(recipe, tmp_path / "run", progress=False)
    stats = measure_stats(DesedLayout(tiny_root), n_frames=recipe.frame_grid.n_frames, frame_hop_s=recipe.frame_grid.frame_hop_s)
    k = auto_k(stats.volumes, stats.frame_ratios, 0.5)
    saved = json.loads((result.run_dir / "class_weights.json").read_text())
    assert saved["k"] == {"auto": True, "chosen": k, "target": 0.5, "rule": "median"}
    assert saved["loss"]["k"] == "auto" and saved["loss"]["k_auto_target"] == 0.5
    assert np.allclose(saved["weights"], time_balanced_weights(stats.volumes, stats.frame_ratios, k))
    assert f"k: auto -> k = {k:g}" in capsys.readouterr().out


def test_geomean_rule_is_named_and_recorded_by_training(make_recipe, tiny_root, tmp_path, capsys):
    assert run_name({"loss.name": "tbfl", "loss.k": "auto", "loss.k_auto_rule": "geomean", "loss.gamma": 2}) == "tbfl_kauto-geomean_g2"
    assert run_name({"loss.name": "tbfl", "loss.k": "auto", "loss.k_auto_target": 0.5, "loss.k_auto_rule": "geomean"}) == "tbfl_kauto0.5-geomean_g2"
    assert run_name({"loss.name": "tbfl", "loss.k": "auto", "loss.k_auto_rule": "median"}) == "tbfl_kauto_g2"
    recipe = make_recipe(loss__k="auto", loss__k_auto_rule="geomean", training__max_epochs=1, training__limit_train_batches=1)
    result = train_run(recipe, tmp_path / "run", progress=False)
    stats = measure_stats(DesedLayout(tiny_root), n_frames=recipe.frame_grid.n_frames, frame_hop_s=recipe.frame_grid.frame_hop_s)
    k = auto_k(stats.volumes, stats.frame_ratios, rule="geomean")
    saved = json.loads((result.run_dir / "class_weights.json").read_text())
    assert saved["k"] == {"auto": True, "chosen": k, "target": 1.0, "rule": "geomean"}
    assert np.allclose(saved["weights"], time_balanced_weights(stats.volumes, stats.frame_ratios, k))
    assert f"k: auto -> k = {k:g} (geometric mean_c k r_c / V_c >= 1 x Table 1's at k = 1000)" in capsys.readouterr().out
