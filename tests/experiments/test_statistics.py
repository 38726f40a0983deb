"""Seed-paired differences and their Student-t intervals."""

import math

import numpy as np
import pytest

from tbfl.experiments.statistics import paired_difference


def test_interval_is_the_paired_t_interval_computed_by_hand():
    a = {1: 0.50, 2: 0.55, 3: 0.47, 4: 0.52, 5: 0.58}
    b = {1: 0.45, 2: 0.49, 3: 0.46, 4: 0.44, 5: 0.50, 6: 0.99}  # seed 6 has no partner: ignored
    result = paired_difference(a, b)
    d = np.array([0.05, 0.06, 0.01, 0.08, 0.08])
    half = 2.7764451051977987 * d.std(ddof=1) / math.sqrt(5)  # t_{0.975, 4}
    assert result.seeds == (1, 2, 3, 4, 5)
    assert result.mean == pytest.approx(d.mean())
    assert (result.ci_low, result.ci_high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert result.verdict == "higher"
    assert result.format() == f"+{d.mean():.3f} [+{d.mean() - half:.3f}, +{d.mean() + half:.3f}]"


def test_verdicts_follow_the_interval():
    assert paired_difference({1: 0.1, 2: 0.2, 3: 0.3}, {1: 0.2, 2: 0.1, 3: 0.3}).verdict == "not shown"  # differences -0.1, +0.1, 0
    assert paired_difference({1: 0.1, 2: 0.2, 3: 0.1}, {1: 0.3, 2: 0.4, 3: 0.31}).verdict == "lower"
    single = paired_difference({1: 0.4}, {1: 0.3})
    assert single.verdict == "not shown" and math.isnan(single.ci_low) and single.format() == "+0.100 (1 seed)"


def test_coverage_is_close_to_the_level_on_normal_data():
    """The interval covers the true mean difference in about 95% of simulated 5-seed studies."""
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(2000):
        b = rng.normal(0.4, 0.05, 5)
        a = b + 0.02 + rng.normal(0, 0.03, 5)
        result = paired_difference(dict(enumerate(a)), dict(enumerate(b)))
        covered += result.ci_low <= 0.02 <= result.ci_high
    assert abs(covered / 2000 - 0.95) < 0.015


def test_no_common_seed_is_an_error():
    with pytest.raises(ValueError, match="share no seed"):
        paired_difference({1: 0.1}, {2: 0.2})


def test_longest_wait_between_improvements():
    from tbfl.experiments.tables import longest_wait

    # improvements at epochs 1, 2, 6 (index 0, 1, 5): the longest wait is 4 epochs
    assert longest_wait(np.array([0.1, 0.3, 0.2, 0.25, 0.3, 0.5, 0.4])) == 4
    assert longest_wait(np.array([0.5, 0.4, 0.3])) == 0


def test_p_value_is_scipys_paired_t_test_and_agrees_with_the_interval():
    from scipy import stats

    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(2, 7))
        a, b = rng.normal(0.5, 0.05, n), rng.normal(0.5, 0.05, n) + rng.normal(0, 0.03)
        result = paired_difference(dict(enumerate(a)), dict(enumerate(b)))
        assert result.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-9)
        assert (result.p_value < 0.05) == (result.verdict != "not shown")


def test_p_value_edge_cases():
    assert paired_difference({1: 0.5, 2: 0.6}, {1: 0.4, 2: 0.5}).p_value == 0.0  # every seed +0.1
    assert paired_difference({1: 0.5, 2: 0.6}, {1: 0.5, 2: 0.6}).p_value == 1.0
    single = paired_difference({1: 0.4}, {1: 0.3})
    assert math.isnan(single.p_value) and single.format_p() == "n/a"


def test_holm_adjusted_by_hand():
    from tbfl.experiments.statistics import holm_adjusted

    # sorted: 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 = 0.04 -> raised to 0.06 (monotone)
    adjusted = holm_adjusted([0.01, 0.04, 0.03, 0.005, math.nan])
    np.testing.assert_allclose(adjusted[:4], [0.03, 0.06, 0.06, 0.02])
    assert math.isnan(adjusted[4])
    assert holm_adjusted([0.6, 0.9])[1] == 1.0  # capped


def test_holm_verdicts_keep_only_what_survives_the_family():
    from tbfl.experiments.statistics import holm_verdicts

    strong = paired_difference({1: 0.60, 2: 0.71, 3: 0.65, 4: 0.70}, {1: 0.40, 2: 0.50, 3: 0.45, 4: 0.49})   # p ~ 1e-5
    edge = paired_difference({1: 0.50, 2: 0.55, 3: 0.47, 4: 0.52}, {1: 0.46, 2: 0.49, 3: 0.46, 4: 0.45})     # p ~ 0.04
    null = paired_difference({1: 0.50, 2: 0.40, 3: 0.47, 4: 0.52}, {1: 0.46, 2: 0.49, 3: 0.46, 4: 0.50})
    assert strong.verdict == "higher" and edge.verdict == "higher" and null.verdict == "not shown"
    assert 0.01 < edge.p_value < 0.05
    assert holm_verdicts([edge]) == ["higher"]
    assert holm_verdicts([strong, edge, null]) == ["higher", "not shown", "not shown"]
    lower = paired_difference({1: 0.40, 2: 0.50, 3: 0.45, 4: 0.49}, {1: 0.60, 2: 0.71, 3: 0.65, 4: 0.70})
    assert holm_verdicts([lower, null]) == ["lower", "not shown"]


def test_committed_study_tables_apply_holm_over_each_table():
    """On the committed study runs: a table's Holm column is Holm's step-down over all its rows, by hand."""
    from pathlib import Path

    from scipy import stats

    from tbfl.experiments import comparisons
    from tbfl.experiments.runs import load_runs
    from tbfl.experiments.statistics import HOLM_COLUMN

    configurations = load_runs(Path(__file__).parents[2] / "docs" / "study" / "runs")
    a, b = configurations["tbfl_k250_g2"], configurations["bce"]
    classes = sorted(a.runs[0].per_class("event_f1_best"))
    short = [c for i, c in enumerate(classes) if i % 2]
    table = comparisons.class_differences(a, b, classes, [1.0 if c in short else 5.0 for c in classes])
    seeds = sorted(set(a.by_seed()) & set(b.by_seed()))

    def values(config, members):
        return [np.mean([config.by_seed()[s].per_class("event_f1_best")[c] for c in members]) for s in seeds]

    families = [[c] for c in classes] + [short, [c for c in classes if c not in short]]
    p_values = [stats.ttest_rel(values(a, members), values(b, members)).pvalue for members in families]
    expected, m = ["not shown"] * len(families), len(families)
    for rank, index in enumerate(np.argsort(p_values)):
        if p_values[index] >= 0.05 / (m - rank):
            break
        expected[index] = table["verdict"].iloc[index]
    assert list(table[HOLM_COLUMN]) == expected


def test_every_configuration_against_bce_marks_confirmed_and_holm_cells():
    """On the committed study runs: one row per configuration, cells marked as their interval and Holm over all cells say."""
    from pathlib import Path

    from tbfl.experiments import comparisons
    from tbfl.experiments.runs import HEADLINE_METRICS, METRIC_LABELS, load_runs
    from tbfl.experiments.statistics import holm_verdicts

    configurations = load_runs(Path(__file__).parents[2] / "docs" / "study" / "runs")
    table = comparisons.against_reference(configurations, "bce")
    others = [name for name in configurations if name != "bce"]
    assert list(table["configuration"]) == others
    value = lambda config, m: {r.seed: r.metrics.value(m) for r in configurations[config].runs}  # noqa: E731
    differences = [paired_difference(value(name, m), value("bce", m)) for name in others for m in HEADLINE_METRICS]
    after_holm = iter(holm_verdicts(differences))
    cells = iter(differences)
    for _, row in table.iterrows():
        for m in HEADLINE_METRICS:
            difference, holm = next(cells), next(after_holm)
            text = row[METRIC_LABELS[m]]
            assert text.startswith(difference.format())
            assert text.endswith(comparisons.HOLM_MARK) == (holm != "not shown")
            assert text.endswith(comparisons.CONFIRMED_MARK) == (difference.verdict != "not shown" and holm == "not shown")
    k250 = table.set_index("configuration").loc["tbfl_k250_g2"]
    assert k250["seeds"] == 5 and k250["PSDS2"].startswith("+0.063 [+0.028, +0.099]")


def test_each_sweep_is_compared_with_the_papers_best_point_in_sweep_order():
    """On the committed study runs: the k sweep against k = 250, the gamma sweep against gamma = 2, rows in sweep order."""
    from pathlib import Path

    from tbfl.experiments import comparisons
    from tbfl.experiments.runs import GAMMA_SWEEP, HEADLINE_METRICS, K_SWEEP, METRIC_LABELS, load_runs
    from tbfl.experiments.sections import sweeps_against_paper_point

    configurations = load_runs(Path(__file__).parents[2] / "docs" / "study" / "runs")
    markdown = "\n".join(sweeps_against_paper_point(configurations))
    k_section = markdown.split("### The sweep of k at gamma = 2, against k = 250")[1].split("###")[0]
    rows = [line for line in k_section.splitlines() if line.startswith("| tbfl_")]
    names = [row.split("|")[1].strip() for row in rows]
    swept = sorted((float(K_SWEEP.value(n)), n) for n in configurations if K_SWEEP.value(n) is not None and n != "tbfl_k250_g2")
    assert names == [n for _, n in swept] and len(names) >= 3
    table = comparisons.against_reference({n: configurations[n] for n in names + ["tbfl_k250_g2"]}, "tbfl_k250_g2")
    value = lambda config, m: {r.seed: r.metrics.value(m) for r in configurations[config].runs}  # noqa: E731
    for row, name in zip(rows, names):
        cells = [cell.strip() for cell in row.split("|")[3:-1]]
        for cell, m in zip(cells, HEADLINE_METRICS):
            assert cell.startswith(paired_difference(value(name, m), value("tbfl_k250_g2", m)).format())
        assert cells == list(table[table.configuration == name][[METRIC_LABELS[m] for m in HEADLINE_METRICS]].iloc[0])
    has_gamma_sweep = sum(1 for n in configurations if GAMMA_SWEEP.value(n) is not None) >= 2
    assert ("### The sweep of gamma at k = 1000, against gamma = 2" in markdown) == has_gamma_sweep


def test_class_balance_section_sets_the_gamma_2_configurations_against_cbfl():
    """On the committed study runs, k = inf's runs standing in for CBFL: the section lists what ran, paired against CBFL."""
    from pathlib import Path

    from tbfl.experiments import comparisons
    from tbfl.experiments.runs import CBFL, Configuration, load_runs
    from tbfl.experiments.sections import AGAINST_CBFL, against_class_balance

    configurations = load_runs(Path(__file__).parents[2] / "docs" / "study" / "runs")
    assert against_class_balance({n: c for n, c in configurations.items() if n != CBFL}) == []
    stand_in = {**configurations, CBFL: Configuration(CBFL, configurations["tbfl_kinf_g2"].runs)}
    markdown = "\n".join(against_class_balance(stand_in))
    names = [line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| configuration")]
    assert names == [n for n in AGAINST_CBFL if n in configurations] and "bce" not in names
    table = comparisons.against_reference({n: stand_in[n] for n in (*names, CBFL)}, CBFL).set_index("configuration")
    assert table.loc["tbfl_kinf_g2", "PSDS1"].startswith("+0.000 [+0.000, +0.000]")
    value = lambda config, m: {r.seed: r.metrics.value(m) for r in stand_in[config].runs}  # noqa: E731
    assert table.loc["tbfl_k250_g2", "PSDS2"].startswith(paired_difference(value("tbfl_k250_g2", "psds2"), value(CBFL, "psds2")).format())
    assert table.loc["tbfl_k250_g2", "seeds"] == 3


def test_slope_interval_is_the_ols_t_interval_computed_by_hand():
    from tbfl.experiments.statistics import slope_test

    x = np.array([0, 0, 1, 1, 1, 1, 2, 2], dtype=float)
    y = np.array([0.01, -0.02, 0.03, 0.00, 0.05, 0.02, 0.08, 0.06])
    slope = slope_test(x, y)
    xc = x - x.mean()
    b = (xc * (y - y.mean())).sum() / (xc**2).sum()
    residuals = y - y.mean() - b * xc
    se = np.sqrt((residuals**2).sum() / (len(x) - 2) / (xc**2).sum())
    t = 2.4469118511449692  # t_{0.975, 6}
    assert slope.estimate == pytest.approx(b)
    assert (slope.ci_low, slope.ci_high) == pytest.approx((b - t * se, b + t * se))
    assert slope.p_value == pytest.approx(2 * (1 - __import__("scipy").stats.t.cdf(abs(b / se), 6)))
    with pytest.raises(ValueError, match="2 or more levels"):
        slope_test([1, 1, 1], [0.1, 0.2, 0.3])


def test_equivalence_needs_the_90_percent_interval_inside_the_margin():
    from tbfl.experiments.statistics import equivalence_interval

    low, high, equivalent = equivalence_interval([0.001, -0.002, 0.003, 0.000], margin=0.02)
    assert equivalent and -0.02 < low < high < 0.02
    sd = np.std([0.001, -0.002, 0.003, 0.000], ddof=1)
    assert high - low == pytest.approx(2 * 2.3533634348018264 * sd / 2)  # t_{0.95, 3} * se, both sides
    assert not equivalence_interval([0.01, -0.01], margin=0.02)[2]  # 1 df: the interval is +-0.063


def test_protocol_verdicts():
    from tbfl.experiments.statistics import protocol_verdict

    assert protocol_verdict(0.05, 0.01, 0.09, holm_p=0.01) == "confirmed"
    assert protocol_verdict(0.05, 0.01, 0.09, holm_p=0.08) == "inconclusive"  # interval alone is not enough
    assert protocol_verdict(-0.05, -0.09, -0.01, holm_p=0.01) == "refuted"  # shown in the other direction
    assert protocol_verdict(0.001, -0.01, 0.015, holm_p=0.9) == "refuted"  # shown smaller than a useful effect
    assert protocol_verdict(0.01, -0.03, 0.05, holm_p=0.5) == "inconclusive"
