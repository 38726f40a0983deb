"""Paired comparisons of two configurations over seeds, with confidence intervals.

Two configurations trained with the same seeds share their initialisation,
data order and mixup draws, so their difference is measured per seed
(``a - b`` on seed s) and summarised by the mean difference and a Student-t
confidence interval on the paired differences (n - 1 degrees of freedom):

    mean(d) ± t_{1 - (1 - level)/2, n-1} · std(d, ddof=1) / sqrt(n)

A difference is "confirmed" only when its interval excludes 0. With 3 to 5
seeds the intervals are wide; that is the point of reporting them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PairedDifference:
    """``a - b`` over the seeds both configurations ran; ``ci`` is the two-sided interval at ``level``."""

    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    mean: float
    ci_low: float
    ci_high: float
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

    def format(self, digits: int = 3) -> str:
        """``+0.041 [+0.012, +0.070]``."""
        if len(self.seeds) < 2:
            return f"{self.mean:+.{digits}f} (1 seed)"
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
        return PairedDifference(seeds, tuple(differences.tolist()), mean, math.nan, math.nan, level)
    half_width = float(stats.t.ppf(0.5 + level / 2, len(seeds) - 1) * differences.std(ddof=1) / math.sqrt(len(seeds)))
    return PairedDifference(seeds, tuple(differences.tolist()), mean, mean - half_width, mean + half_width, level)
