"""Paired comparisons of two configurations over seeds, with confidence intervals.

Two configurations trained with the same seeds share their initialisation,
data order and mixup draws, so their difference is measured per seed
(``a - b`` on seed s) and summarised by the mean difference and a Student-t
confidence interval on the paired differences (n - 1 degrees of freedom):

    mean(d) ± t_{1 - (1 - level)/2, n-1} · std(d, ddof=1) / sqrt(n)

A difference is "confirmed" only when its interval excludes 0. With 3 to 5
seeds the intervals are wide; that is the point of reporting them.

A report tests many differences at once (every class, every metric), so some
intervals exclude 0 by chance: about one in twenty true-null rows. Each
difference therefore also carries the paired t-test's two-sided p-value
(< 1 - level exactly when the interval excludes 0), and :func:`holm_verdicts`
gives the verdicts that survive Holm's step-down correction over a family
of differences (family-wise error <= 1 - level under any dependence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

#: The column of a table of differences that holds each verdict after Holm's correction over the table.
HOLM_COLUMN = "verdict after Holm"


@dataclass(frozen=True)
class PairedDifference:
    """``a - b`` over the seeds both configurations ran; ``ci`` is the two-sided interval at ``level``."""

    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    mean: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float = 0.95

    @property
    def verdict(self) -> str:
        """"higher" / "lower" when the interval excludes 0, else "not shown" (also with fewer than 2 seeds)."""
        if len(self.seeds) < 2 or math.isnan(self.ci_low):
            return "not shown"
        if self.ci_low > 0:
            return "higher"
        if self.ci_high < 0:
            return "lower"
        return "not shown"

    @property
    def direction(self) -> str:
        """"higher" or "lower": the sign of the mean difference."""
        return "higher" if self.mean > 0 else "lower"

    def format_p(self) -> str:
        """``0.012``, ``<0.001``, or ``n/a`` with fewer than 2 seeds."""
        if math.isnan(self.p_value):
            return "n/a"
        return "<0.001" if self.p_value < 0.001 else f"{self.p_value:.3f}"

    def format(self, digits: int = 3, *, unit: str = "seed") -> str:
        """``+0.041 [+0.012, +0.070]``; a single difference has no interval: ``+0.041 (1 seed)``, its ``unit``
        being what the keys of the compared mappings are (study 2 compares over datasets: ``unit="dataset"``)."""
        if len(self.seeds) < 2:
            return f"{self.mean:+.{digits}f} (1 {unit})"
        return f"{self.mean:+.{digits}f} [{self.ci_low:+.{digits}f}, {self.ci_high:+.{digits}f}]"


def paired_difference(a: Mapping[int, float], b: Mapping[int, float], level: float = 0.95) -> PairedDifference:
    """The per-seed difference ``a[s] - b[s]`` over the common seeds, its mean and t-interval.

    Args:
        a, b: seed -> metric value of each configuration.
        level: confidence level of the two-sided interval.
    """
    seeds = tuple(sorted(set(a) & set(b)))
    if not seeds:
        raise ValueError("the two configurations share no seed: a paired comparison needs the same seeds")
    differences = np.array([a[s] - b[s] for s in seeds], dtype=float)
    mean = float(differences.mean())
    if len(seeds) < 2:
        return PairedDifference(seeds, tuple(differences.tolist()), mean, math.nan, math.nan, math.nan, level)
    standard_error = float(differences.std(ddof=1) / math.sqrt(len(seeds)))
    half_width = float(stats.t.ppf(0.5 + level / 2, len(seeds) - 1)) * standard_error
    if standard_error > 0:
        p_value = float(2 * stats.t.sf(abs(mean) / standard_error, len(seeds) - 1))
    else:  # every seed moved by the same amount
        p_value = 0.0 if mean != 0 else 1.0
    return PairedDifference(seeds, tuple(differences.tolist()), mean, mean - half_width, mean + half_width, p_value, level)


def holm_adjusted(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values, shape (n,); NaN entries stay NaN and are not counted in the family.

    The i-th smallest of m p-values is multiplied by (m - i + 1), made non-decreasing in that
    order and capped at 1; a hypothesis is rejected at level alpha when its adjusted p < alpha.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    factors = len(order) - np.arange(len(order))
    adjusted[order] = np.minimum(np.maximum.accumulate(p[order] * factors), 1.0)
    return adjusted


def holm_verdicts(differences: Sequence[PairedDifference]) -> list[str]:
    """Each difference's verdict after Holm's correction over the whole family (the level is each one's ``level``)."""
    adjusted = holm_adjusted([d.p_value for d in differences])
    return [d.direction if p < 1 - d.level else "not shown" for d, p in zip(differences, adjusted)]


def verdict_columns(differences: Sequence[PairedDifference]) -> list[dict[str, str]]:
    """Per difference, the columns every table of differences ends with: the mean and its interval,
    ``p``, the verdict, and the verdict after Holm over all of ``differences`` (one family)."""
    return [{"mean difference [95% CI]": d.format(), "p": d.format_p(), "verdict": d.verdict, HOLM_COLUMN: holm}
            for d, holm in zip(differences, holm_verdicts(differences))]


@dataclass(frozen=True)
class Slope:
    """The least-squares slope of ``y`` on ``x`` over n points, its two-sided t-interval (n - 2 df) and p."""

    n: int
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float = 0.95

    def format(self, digits: int = 3, unit: str = "level") -> str:
        """``+0.021 per level [-0.004, +0.046]``: the change of y per ``unit`` of x."""
        return f"{self.estimate:+.{digits}f} per {unit} [{self.ci_low:+.{digits}f}, {self.ci_high:+.{digits}f}]"


def slope_test(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Slope:
    """OLS slope of ``y`` (n,) on ``x`` (n,) with its t-interval; needs n >= 3 and two distinct x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or len(np.unique(x)) < 2:
        raise ValueError(f"a slope needs at least 3 points at 2 or more levels, got {len(x)} at {len(np.unique(x))}")
    fit = stats.linregress(x, y)
    half_width = float(stats.t.ppf(0.5 + level / 2, len(x) - 2)) * float(fit.stderr)
    return Slope(len(x), float(fit.slope), float(fit.slope) - half_width, float(fit.slope) + half_width, float(fit.pvalue), level)


def equivalence_interval(values: Sequence[float], margin: float) -> tuple[float, float, bool]:
    """Two one-sided tests at 5% each: the 90% t-interval of the mean of ``values`` and whether it lies in (-margin, +margin)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        raise ValueError("an equivalence test needs at least 2 values")
    mean, standard_error = float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))
    half_width = float(stats.t.ppf(0.95, len(values) - 1)) * standard_error
    low, high = mean - half_width, mean + half_width
    return low, high, bool(-margin < low and high < margin)


#: Study 2's smallest difference a user would act on (PSDS or F1): inside (-margin, +margin) is "refuted" (docs/study2/protocol.md).
PRACTICAL_MARGIN = 0.02


def protocol_verdict(estimate: float, ci_low: float, ci_high: float, holm_p: float, *, margin: float = PRACTICAL_MARGIN) -> str:
    """Study 2's verdict on a hypothesised positive difference: ``confirmed`` (Holm-adjusted p < 0.05 and above 0),
    ``refuted`` (the 95% interval entirely below 0, or entirely inside (-margin, +margin)), else ``inconclusive``."""
    if holm_p < 0.05 and estimate > 0:
        return "confirmed"
    if ci_high < 0 or (-margin < ci_low and ci_high < margin):
        return "refuted"
    return "inconclusive"
