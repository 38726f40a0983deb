import math
import warnings

import numpy as np
import pytest

from tbfl.constants import DESED_CLASSES
from tbfl.weights import class_balanced_weights, effective_number, time_balanced_weights

# The paper's Table 1: data volume V_c and frame ratio r_c of DESED 2021.
TABLE1_VOLUMES = [190, 98, 88, 109, 136, 56, 64, 68, 128, 72]
TABLE1_RATIOS = [0.0368, 0.0526, 0.0322, 0.0388, 0.0334, 0.1165, 0.1551, 0.1002, 0.3130, 0.1212]
# TBFL weights at k = 1000 quoted in the issue (two decimals).
TABLE1_WEIGHTS_K1000 = {
    "Alarm_bell_ringing": 1.27, "Blender": 1.03, "Cat": 1.55, "Dishes": 1.30, "Dog": 1.42,
    "Electric_shaver_toothbrush": 0.85, "Frying": 0.72, "Running_water": 0.80, "Speech": 0.36, "Vacuum_cleaner": 0.71,
}


def test_effective_number_matches_definition():
    for n, beta in [(1, 0.5), (7, 0.9), (100, 0.99), (3, 0.0), (1000, 0.999)]:
        assert effective_number(n, beta) == pytest.approx((1 - beta**n) / (1 - beta), rel=1e-12)


def test_effective_number_limits():
    assert effective_number(math.inf, 0.75) == pytest.approx(4.0)  # 1 / (1 - beta)
    assert effective_number(1, 0.9999) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        effective_number(5, 1.0)
    with pytest.raises(ValueError):
        effective_number(0, 0.5)


def test_table1_weights_at_k1000():
    weights = time_balanced_weights(TABLE1_VOLUMES, TABLE1_RATIOS, 1000)
    assert weights.sum() == pytest.approx(10.0)
    for name, weight in zip(DESED_CLASSES, weights):
        assert round(float(weight), 2) == TABLE1_WEIGHTS_K1000[name], name


def test_time_balanced_matches_equation_directly():
    volumes, ratios, k = np.array([50.0, 7.0, 300.0]), np.array([0.2, 0.5, 0.3]), 37.0
    beta = (volumes - 1) / volumes
    raw = (1 - beta) / (1 - beta ** np.floor(k * ratios))
    expected = raw / raw.sum() * 3
    np.testing.assert_allclose(time_balanced_weights(volumes, ratios, k), expected, rtol=1e-12)


def test_k_infinity_is_inverse_volume():
    weights = time_balanced_weights(TABLE1_VOLUMES, TABLE1_RATIOS, math.inf)
    inverse_volume = 1 / np.array(TABLE1_VOLUMES, dtype=float)
    np.testing.assert_allclose(weights, inverse_volume / inverse_volume.sum() * 10, rtol=1e-12)


def test_large_k_approaches_inverse_volume():
    big = time_balanced_weights(TABLE1_VOLUMES, TABLE1_RATIOS, 1e9)
    inf = time_balanced_weights(TABLE1_VOLUMES, TABLE1_RATIOS, math.inf)
    np.testing.assert_allclose(big, inf, rtol=1e-6)


def test_zero_exponent_uses_one_and_warns_naming_class():
    with pytest.warns(UserWarning, match="Dishes"):
        weights = time_balanced_weights([10, 10, 10], [0.5, 0.0005, 0.4995], 100, classes=["Dog", "Dishes", "Cat"])
    # exponent 1 -> effective number 1 -> the largest weight
    assert weights.argmax() == 1
    beta = 0.9
    expected = np.array([1 / ((1 - beta**50) / (1 - beta)), 1.0, 1 / ((1 - beta**49) / (1 - beta))])
    np.testing.assert_allclose(weights, expected / expected.sum() * 3)


def test_class_with_no_frames_gets_exponent_one():
    with pytest.warns(UserWarning, match="B"):
        weights = time_balanced_weights([5, 5], [1.0, 0.0], 10, classes=["A", "B"])
    assert weights[1] > weights[0]


def test_volume_one_gives_effective_number_one():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = time_balanced_weights([1, 1000], [0.5, 0.5], 1000)
    # V=1: E=1 whatever the exponent; V=1000, n=500: E = 1000 (1 - 0.999**500)
    e_big = 1000 * (1 - 0.999**500)
    np.testing.assert_allclose(weights, np.array([1, 1 / e_big]) / (1 + 1 / e_big) * 2)


@pytest.mark.parametrize(
    "volumes, ratios, k, message",
    [
        ([10, 0], [0.5, 0.5], 10, "class 'B'.*volume"),
        ([10, -3], [0.5, 0.5], 10, "class 'B'.*volume"),
        ([10, float("nan")], [0.5, 0.5], 10, "class 'B'.*volume"),
        ([10, float("inf")], [0.5, 0.5], 10, "class 'B'.*volume"),
        ([10, 10], [0.5, -0.1], 10, "class 'B'.*frame ratio"),
        ([10, 10], [0.5, float("nan")], 10, "class 'B'.*frame ratio"),
        ([10, 10], [0.5, 1.5], 10, "class 'B'.*frame ratio"),
        ([10, 10], [0.5, 0.5], 0, "k must be > 0"),
        ([10, 10], [0.5, 0.5], float("nan"), "k must be > 0"),
        ([10, 10, 10], [0.5, 0.5], 10, "equal length"),
    ],
)
def test_bad_inputs_name_the_class(volumes, ratios, k, message):
    with pytest.raises(ValueError, match=message):
        time_balanced_weights(volumes, ratios, k, classes=["A", "B", "C"][: len(volumes)] if len(volumes) == len(ratios) else None)


def test_class_balanced_weights_cui():
    counts, beta = np.array([1000.0, 100.0, 10.0]), 0.99
    effective = (1 - beta**counts) / (1 - beta)
    expected = (1 / effective) / (1 / effective).sum() * 3
    np.testing.assert_allclose(class_balanced_weights(counts, beta), expected)
    np.testing.assert_allclose(class_balanced_weights(counts, 0.0), [1, 1, 1])
    with pytest.raises(ValueError, match="class 'y'"):
        class_balanced_weights([3, 0], 0.9, classes=["x", "y"])


def test_exponent_is_robust_to_float_error():
    from tbfl.weights import tbfl_exponents

    assert 10000 * 0.1551 < 1551  # the float product falls just short
    assert tbfl_exponents([0.1551, 0.0368], 10000).tolist() == [1551, 368]
    assert tbfl_exponents([0.5], math.inf).tolist() == [math.inf]
