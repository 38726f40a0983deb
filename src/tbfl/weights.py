"""Class weights from effective numbers of samples: class-balanced and time-balanced.

Effective number (Cui et al., the paper's eq. 2):  E(n, beta) = (1 - beta**n) / (1 - beta).

Time-balanced weights (the paper's eq. 4):

    w_c  ∝  (1 - beta_c) / (1 - beta_c ** floor(k * r_c)),   beta_c = (V_c - 1) / V_c,   sum_c w_c = C

with V_c the data volume (number of source recordings of class c) and r_c the
share of positive frames of class c among all positive frames. Since
(1 - beta_c) / (1 - beta_c**n) = 1 / E(n, beta_c), both weightings are
"inverse effective number, normalised to sum to C".

Edge cases (all documented, none silent):
- ``floor(k * r_c) == 0`` (a rare class or a small k) makes the paper's formula
  0/0. The exponent is raised to 1, which gives E = 1 (one effective sample,
  the largest weight any class can get) and a ``UserWarning`` naming the class.
  A class with r_c = 0 (no positive frame) takes the same rule.
- ``V_c == 1``: beta_c = 0 and E = 1 for every exponent >= 1.
- ``k = math.inf``: E = V_c, so w_c ∝ 1 / V_c = 1 - beta_c.
- Volumes must be finite and >= 1, frame ratios finite and in [0, 1], k > 0
  (``math.inf`` allowed); anything else is a ``ValueError`` naming the class.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from tbfl.constants import DESED_CLASSES


def effective_number(n: float | np.ndarray, beta: float | np.ndarray) -> np.ndarray:
    """Effective number of samples (1 - beta**n) / (1 - beta), elementwise.

    Args:
        n: number of samples (>= 1; ``inf`` gives 1 / (1 - beta)).
        beta: in [0, 1).
    Computed as -expm1(n * log(beta)) / (1 - beta), accurate for beta near 1.
    """
    n = np.asarray(n, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if np.any(~np.isfinite(beta)) or np.any((beta < 0) | (beta >= 1)):
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    if np.any(np.isnan(n)) or np.any(n < 1):
        raise ValueError(f"n must be >= 1, got {n}")
    with np.errstate(divide="ignore"):
        log_beta = np.log(beta)  # -inf for beta = 0: beta**n = 0
    with np.errstate(invalid="ignore"):
        power = n * log_beta  # n = inf, beta = 0 -> -inf; n = inf, beta > 0 -> -inf
    return -np.expm1(power) / (1.0 - beta)


def _normalise(inverse_effective: np.ndarray) -> np.ndarray:
    """Scale weights so that they sum to the number of classes."""
    return inverse_effective * (inverse_effective.size / inverse_effective.sum())


def class_names(n_classes: int, classes: Sequence[str] | None = None) -> Sequence[str]:
    """``classes`` checked against ``n_classes``; default: the DESED classes when there are 10, else 'class i'."""
    if classes is None:
        classes = DESED_CLASSES if n_classes == len(DESED_CLASSES) else [f"class {i}" for i in range(n_classes)]
    if len(classes) != n_classes:
        raise ValueError(f"{len(classes)} class names given for {n_classes} classes")
    return classes


def class_balanced_weights(counts: Sequence[float], beta: float, *, classes: Sequence[str] | None = None) -> np.ndarray:
    """Class-balanced weights of Cui et al.: w_c ∝ (1 - beta) / (1 - beta**n_c), sum = C.

    Args:
        counts: (C,) number of samples per class, each >= 1.
        beta: shared hyper-parameter in [0, 1) (0 gives equal weights).
    Returns:
        (C,) float64 weights summing to C.
    """
    counts = np.asarray(counts, dtype=np.float64)
    names = class_names(counts.size, classes)
    for name, count in zip(names, counts):
        if not math.isfinite(count) or count < 1:
            raise ValueError(f"class {name!r}: sample count must be finite and >= 1, got {count}")
    return _normalise(1.0 / effective_number(counts, beta))


def tbfl_exponents(frame_ratios: Sequence[float], k: float) -> np.ndarray:
    """floor(k * r_c) per class (inf for k = inf), robust to float error (10000 * 0.1551 is 1550.99...)."""
    frame_ratios = np.asarray(frame_ratios, dtype=np.float64)
    if math.isinf(k):
        return np.full_like(frame_ratios, np.inf)
    return np.floor(k * frame_ratios + 1e-9)


def _check_inputs(volumes: Sequence[float], frame_ratios: Sequence[float], classes: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray, Sequence[str]]:
    """V_c and r_c as float64 arrays and the class names; ValueError naming the class for a bad value."""
    volumes = np.asarray(volumes, dtype=np.float64)
    frame_ratios = np.asarray(frame_ratios, dtype=np.float64)
    if volumes.shape != frame_ratios.shape or volumes.ndim != 1:
        raise ValueError(f"volumes {volumes.shape} and frame_ratios {frame_ratios.shape} must be 1-D of equal length")
    names = class_names(volumes.size, classes)
    for name, volume, ratio in zip(names, volumes, frame_ratios):
        if not math.isfinite(volume) or volume < 1:
            raise ValueError(f"class {name!r}: volume V_c must be finite and >= 1, got {volume}")
        if not math.isfinite(ratio) or not 0 <= ratio <= 1:
            raise ValueError(f"class {name!r}: frame ratio r_c must be in [0, 1], got {ratio}")
    return volumes, frame_ratios, names


def time_balanced_weights(
    volumes: Sequence[float],
    frame_ratios: Sequence[float],
    k: float,
    *,
    classes: Sequence[str] | None = None,
) -> np.ndarray:
    """TBFL class weights (eq. 4): w_c ∝ 1 / E(floor(k * r_c), (V_c - 1) / V_c), sum = C.

    Args:
        volumes: (C,) data volume V_c, the number of source recordings per class (>= 1).
        frame_ratios: (C,) r_c, share of positive frames per class (in [0, 1]).
        k: converts ratios to a number of samples (> 0; ``math.inf`` allowed).
        classes: names used in errors and warnings (default: DESED classes when C = 10).
    Returns:
        (C,) float64 weights summing to C.
    """
    if not (k > 0):  # also rejects NaN
        raise ValueError(f"k must be > 0 (math.inf allowed), got {k}")
    volumes, frame_ratios, names = _check_inputs(volumes, frame_ratios, classes)
    exponents = tbfl_exponents(frame_ratios, k)
    starved = [name for name, n in zip(names, exponents) if n < 1]
    if starved:
        warnings.warn(
            f"floor(k * r_c) = 0 for {starved} (k = {k}): the paper's weight is 0/0 there; "
            "using an exponent of 1 (effective number 1, the largest weight)",
            UserWarning,
            stacklevel=2,
        )
    exponents = np.maximum(exponents, 1.0)
    betas = (volumes - 1.0) / volumes
    return _normalise(1.0 / effective_number(exponents, betas))


#: ``loss.k_auto_target``'s default: on the paper's Table 1 at the paper's k = 1000, the median over classes of
#: floor(k * r_c) / V_c (1.0006), rounded; the geometric-mean rule measures relative to Table 1, so 1 there too.
K_AUTO_TARGET = 1.0
#: ``loss.k_auto_rule``: how ``k: auto`` summarises the classes' samples per recording, and the condition that
#: picks k, to format with ``target`` (docs/k-auto.md).
K_AUTO_RULES = {
    "median": "median_c floor(k r_c) / V_c >= {target:g}",
    "geomean": "geometric mean_c k r_c / V_c >= {target:g} x Table 1's at k = 1000",
}
#: The geometric mean over Table 1's classes of k * r_c / V_c at k = 1000 (pinned against Table 1 in the tests).
PAPER_GEOMEAN_SAMPLE_RATIO = 0.7956595675795836


def k_auto_condition(rule: str, target: float) -> str:
    """The condition ``k: auto`` picks k by, as printed: ``median_c floor(k r_c) / V_c >= 1``."""
    return K_AUTO_RULES[rule].format(target=target)


def median_sample_ratio(volumes: Sequence[float], frame_ratios: Sequence[float], k: float | np.ndarray) -> np.ndarray:
    """Median over classes of floor(k * r_c) / V_c (mean of the two middle values for an even C).

    Args:
        volumes, frame_ratios: (C,) V_c and r_c.
        k: a scalar or (K,) values of k.
    Returns:
        () or (K,) medians; non-decreasing in k.
    """
    volumes = np.asarray(volumes, dtype=np.float64)
    frame_ratios = np.asarray(frame_ratios, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    samples = np.floor(k[..., None] * frame_ratios + 1e-9)  # tbfl_exponents' rounding, broadcast over k
    return np.median(samples / volumes, axis=-1)


#: The candidates of :func:`auto_k`: every k with two significant digits, 1.0, 1.1, ..., 9.9, 10, 11, ..., 99, 100, 110, ..., 9.9e9.
_K_CANDIDATES = np.array([m * 10.0**e for e in range(-1, 9) for m in range(10, 100)])


def geomean_sample_ratio(volumes: Sequence[float], frame_ratios: Sequence[float]) -> float:
    """Geometric mean over the classes with r_c > 0 of r_c / V_c: k times it is a typical class's samples per recording.

    Args:
        volumes, frame_ratios: (C,) V_c and r_c.
    Returns:
        the geometric mean (no floor: floor(k r_c) differs from k r_c by less than one sample). ValueError when every
        r_c is 0.
    """
    volumes = np.asarray(volumes, dtype=np.float64)
    frame_ratios = np.asarray(frame_ratios, dtype=np.float64)
    present = frame_ratios > 0
    if not present.any():
        raise ValueError("k: auto (geomean): every class has r_c = 0")
    return float(np.exp(np.mean(np.log(frame_ratios[present] / volumes[present]))))


def auto_k(
    volumes: Sequence[float],
    frame_ratios: Sequence[float],
    target: float = K_AUTO_TARGET,
    *,
    rule: str = "median",
    classes: Sequence[str] | None = None,
) -> float:
    """``loss.k: auto``: the smallest k with two significant digits whose typical samples per recording reach ``target``.

    Rule ``median`` (the default): median_c floor(k r_c) / V_c >= target (:func:`median_sample_ratio`). It is a step
    function of k, flat over ranges (on Table 1 every k from 999 to 1007 gives 1.0006), so k is picked on the grid
    m * 10**e with m = 10..99 (steps of 1% to 10%). Table 1 gives exactly 1000 (990 gives 0.993); the ``small``
    preset (V_c = Table 1 / 4) gives 290 (250 gives 0.90).

    Rule ``geomean``: k * :func:`geomean_sample_ratio` >= target * :data:`PAPER_GEOMEAN_SAMPLE_RATIO`, i.e. the
    geometric-mean class gets ``target`` times the samples per recording it gets on Table 1 at k = 1000, rounded up
    to the same grid. k is then proportional to the geometric mean of V_c / r_c: every class moves it a little,
    where the median jumps when the classes form two groups. See docs/k-auto.md.

    Args:
        volumes, frame_ratios: (C,) V_c (>= 1) and r_c (in [0, 1]).
        target: the ratio to reach (> 0; default :data:`K_AUTO_TARGET`).
        rule: one of :data:`K_AUTO_RULES`.
    Returns:
        k as a float. ValueError when no k up to 9.9e9 reaches the target (median: more than half the classes
        with r_c = 0; geomean: every class), or for invalid inputs (the rules of :func:`time_balanced_weights`).
    """
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target > 0):
        raise ValueError(f"the k: auto target must be a finite number > 0, got {target!r}")
    if rule not in K_AUTO_RULES:
        raise ValueError(f"the k: auto rule must be one of {tuple(K_AUTO_RULES)}, got {rule!r}")
    _check_inputs(volumes, frame_ratios, classes)
    if rule == "geomean":
        exact_k = target * PAPER_GEOMEAN_SAMPLE_RATIO / geomean_sample_ratio(volumes, frame_ratios)
        reached = np.flatnonzero(_K_CANDIDATES >= exact_k * (1 - 1e-12))  # float error must not skip Table 1's 1000
        if reached.size == 0:
            raise ValueError(f"k: auto (geomean): k = {exact_k:g} is above {_K_CANDIDATES[-1]:g}")
        return float(_K_CANDIDATES[reached[0]])
    medians = median_sample_ratio(volumes, frame_ratios, _K_CANDIDATES)
    reached = np.flatnonzero(medians >= target)
    if reached.size == 0:
        raise ValueError(
            f"k: auto: no k up to {_K_CANDIDATES[-1]:g} makes the median over classes of floor(k r_c) / V_c reach {target:g} "
            f"(at most {medians[-1]:g}): too many classes have r_c = 0"
        )
    return float(_K_CANDIDATES[reached[0]])
