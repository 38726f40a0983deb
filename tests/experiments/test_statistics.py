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
    from tbfl.experiments.report import longest_wait

    # improvements at epochs 1, 2, 6 (index 0, 1, 5): the longest wait is 4 epochs
    assert longest_wait(np.array([0.1, 0.3, 0.2, 0.25, 0.3, 0.5, 0.4])) == 4
    assert longest_wait(np.array([0.5, 0.4, 0.3])) == 0
