"""The one loss factory: settings + statistics -> class weights -> a module holding them."""

import numpy as np
import pytest
import torch

from tbfl.constants import DESED_CLASSES
from tbfl.data.stats import DatasetStats
from tbfl.losses import ClassBalancedFocalLoss, TimeBalancedFocalLoss, WeightedFocalLoss
from tbfl.training.config import loss_from_dict
from tbfl.training.loss import LossConfig
from tbfl.training.loss import class_weights, make_loss
from tbfl.weights import time_balanced_weights

C = len(DESED_CLASSES)


@pytest.fixture
def stats() -> DatasetStats:
    volumes = np.arange(10, 10 + 10 * C, 10)  # 10, 20, ..., 100 sources
    ratios = np.arange(1, C + 1) / np.arange(1, C + 1).sum()
    nan = np.full(C, np.nan)
    return DatasetStats(DESED_CLASSES, volumes, nan, ratios, nan, np.ones(C, dtype=np.int64))


def test_tbfl_weights_are_eq4_and_live_in_the_buffer(stats):
    config = LossConfig(name="tbfl", k=1000.0, gamma=1.5)
    weights = class_weights(config, stats)
    np.testing.assert_allclose(weights, time_balanced_weights(stats.volumes, stats.frame_ratios, 1000.0), rtol=1e-12)
    loss = make_loss(config, weights)
    assert isinstance(loss, TimeBalancedFocalLoss) and loss.gamma == 1.5
    assert torch.allclose(loss.weight, torch.as_tensor(weights, dtype=torch.float32))
    assert "weight" in dict(loss.named_buffers())


def test_cbfl_weights_equal_the_class_balanced_module(stats):
    config = LossConfig(name="cbfl", beta=0.99)
    loss = make_loss(config, class_weights(config, stats))
    reference = ClassBalancedFocalLoss(stats.volumes, 0.99)
    assert torch.allclose(loss.weight, reference.weight) and loss.weight.sum().item() == pytest.approx(C)


def test_unweighted_losses_and_uniform_tbfl(stats):
    assert class_weights(LossConfig(name="bce"), stats) is None and class_weights(LossConfig(name="focal"), stats) is None
    assert make_loss(LossConfig(name="focal", alpha=0.25)).alpha == 0.25
    assert class_weights(LossConfig(name="tbfl", uniform_weights=True), stats).tolist() == [1.0] * C
    with pytest.raises(ValueError, match="loss 'tbfl' needs class weights"):
        make_loss(LossConfig(name="tbfl"))


def test_same_value_for_the_same_input(stats):
    x, y = torch.randn(2, C, 7, generator=torch.Generator().manual_seed(0)), (torch.rand(2, C, 7, generator=torch.Generator().manual_seed(1)) > 0.7).float()
    config = LossConfig(name="tbfl", k=500.0)
    weights = class_weights(config, stats)
    assert torch.equal(make_loss(config, weights)(x, y), WeightedFocalLoss(weights, gamma=2.0)(x, y))


def test_loss_hyper_parameters_are_validated():
    with pytest.raises(ValueError, match=r"^loss hyper-parameters: loss.gamma must be >= 0, got -1$"):
        loss_from_dict({"name": "focal", "gamma": -1}, where="loss hyper-parameters")
    assert loss_from_dict({"name": "tbfl", "k": "inf"}).k == float("inf")


def test_cbfl_from_the_factory_is_eq3_on_a_hand_example():
    """Two classes with V = (1, 3) sources, beta = 0.5: eq. (2) gives eps = (1, (1 - 0.125) / 0.5 = 1.75), and with
    Cui et al.'s normalisation to sum C the weights are (1, 4/7) * 2 / (11/7) = (14/11, 8/11)."""
    classes = ("a", "b")
    nan = np.full(2, np.nan)
    stats = DatasetStats(classes, np.array([1, 3]), nan, np.array([0.5, 0.5]), nan, np.ones(2, dtype=np.int64))
    config = LossConfig(name="cbfl", beta=0.5, gamma=2.0)
    loss = make_loss(config, class_weights(config, stats))
    assert isinstance(loss, ClassBalancedFocalLoss)
    np.testing.assert_allclose(loss.weight.numpy(), [14 / 11, 8 / 11], rtol=1e-6)
    # one frame: p = (0.5, 0.75), y = (1, 0)
    logits, target = torch.tensor([[0.0, np.log(3.0)]]), torch.tensor([[1.0, 0.0]])
    eq3 = -(1 / 1.0 * (1 - 0.5) ** 2 * np.log(0.5) + 1 / 1.75 * 0.75**2 * np.log(1 - 0.75))  # -sum_c 1/eps_c {...}
    assert loss(logits, target).item() == pytest.approx(eq3 * (2 / (11 / 7)) / 2, rel=1e-6)  # normalised weights, mean over 2
    assert torch.equal(loss(logits, target), ClassBalancedFocalLoss([1, 3], 0.5)(logits, target))
    with pytest.raises(ValueError, match="counts and beta, or weight"):
        ClassBalancedFocalLoss([1, 3], 0.5, weight=[1.0, 1.0])


def test_competing_losses_from_the_recipe(stats):
    """asl, labce and owbce from recipe settings; labce's per-class vector is the positive-frame prior."""
    from tbfl.losses import AsymmetricLoss, LogitAdjustedBCE, OnsetOffsetWeightedBCE, asymmetric_loss, logit_adjusted_bce, onset_offset_weighted_bce

    x = torch.randn(2, C, 9, generator=torch.Generator().manual_seed(0))
    y = (torch.rand(2, C, 9, generator=torch.Generator().manual_seed(1)) > 0.7).float()
    asl = make_loss(loss_from_dict({"name": "asl", "gamma_pos": 1.0, "gamma_neg": 3.0, "margin": 0.1}))
    assert isinstance(asl, AsymmetricLoss) and class_weights(LossConfig(name="asl"), stats) is None
    assert torch.equal(asl(x, y), asymmetric_loss(x, y, gamma_pos=1.0, gamma_neg=3.0, margin=0.1))
    owbce = make_loss(loss_from_dict({"name": "owbce", "boundary_weight": 2.0, "boundary_frames": 5}))
    assert isinstance(owbce, OnsetOffsetWeightedBCE) and torch.equal(owbce(x, y), onset_offset_weighted_bce(x, y, boundary_weight=2.0, boundary_frames=5))

    rates = np.linspace(0.01, 0.3, C)
    nan = np.full(C, np.nan)
    with_rates = DatasetStats(DESED_CLASSES, stats.volumes, nan, stats.frame_ratios, nan, stats.n_events, frame_rates=rates)
    config = loss_from_dict({"name": "labce", "tau": 0.5})
    prior = class_weights(config, with_rates)
    np.testing.assert_array_equal(prior, rates)
    labce = make_loss(config, prior)
    assert isinstance(labce, LogitAdjustedBCE) and torch.allclose(labce.prior, torch.as_tensor(rates, dtype=torch.float32))
    assert torch.allclose(labce(x, y), logit_adjusted_bce(x, y, rates.astype(np.float32), tau=0.5))
    with pytest.raises(ValueError, match="needs the per-class positive-frame rates"):
        class_weights(config, stats)  # a record without frame_rates
    with pytest.warns(UserWarning, match=r"class\(es\) \['Alarm_bell_ringing'\] are active in \(almost\) no frame"):
        clipped = class_weights(config, DatasetStats(DESED_CLASSES, stats.volumes, nan, stats.frame_ratios, nan, stats.n_events, frame_rates=np.r_[0.0, rates[1:]]))
    assert clipped[0] == 1e-4 and np.array_equal(clipped[1:], rates[1:])
    with pytest.raises(ValueError, match="loss 'labce' needs class weights"):
        make_loss(config)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"name": "asl", "margin": 1.0}, "loss.margin must be in [0, 1), got 1.0"),
        ({"name": "asl", "gamma_neg": -1}, "loss.gamma_neg must be >= 0, got -1"),
        ({"name": "asl", "gamma_pos": "x"}, "loss.gamma_pos must be a number >= 0, got 'x'"),
        ({"name": "labce", "tau": -0.5}, "loss.tau must be >= 0, got -0.5"),
        ({"name": "owbce", "boundary_frames": 0}, "loss.boundary_frames must be >= 1, got 0"),
        ({"name": "owbce", "boundary_frames": 2.5}, "loss.boundary_frames must be an integer >= 1, got 2.5"),
        ({"name": "owbce", "boundary_weight": -1.0}, "loss.boundary_weight must be >= 0, got -1.0"),
        ({"name": "owbce", "boundary_width": 3}, "unknown key(s) ['boundary_width']"),
    ],
)
def test_competing_loss_settings_are_validated(values, message):
    with pytest.raises(ValueError) as error:
        loss_from_dict(values, where="recipe.yaml")
    assert str(error.value).startswith("recipe.yaml") and message in str(error.value)
