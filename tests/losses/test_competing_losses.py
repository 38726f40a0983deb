"""ASL, logit-adjusted BCE and OWBCE against independent scalar implementations of their formulas (numpy, loops)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tbfl.losses import (
    AsymmetricLoss,
    LogitAdjustedBCE,
    OnsetOffsetWeightedBCE,
    asymmetric_loss,
    binary_cross_entropy,
    boundary_weights,
    logit_adjusted_bce,
    onset_offset_weighted_bce,
)

GEN = torch.Generator().manual_seed(7)


def batch(shape=(3, 5, 11), scale=3.0, dtype=torch.float64):
    logits = torch.randn(shape, generator=GEN, dtype=dtype) * scale
    target = torch.rand(shape, generator=GEN, dtype=dtype)
    return logits, target


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --------------------------------------------------------------------------- ASL


def asl_scalar(x: float, y: float, gamma_pos: float, gamma_neg: float, m: float) -> float:
    """Ridnik et al.'s L+ and L- for one element, mixed by the soft target."""
    p = sigmoid(x)
    p_m = max(p - m, 0.0)
    loss_pos = (1 - p) ** gamma_pos * math.log(p)
    loss_neg = p_m**gamma_neg * math.log(1 - p_m)
    return -(y * loss_pos + (1 - y) * loss_neg)


@pytest.mark.parametrize("gamma_pos, gamma_neg, margin", [(0.0, 4.0, 0.05), (1.0, 4.0, 0.2), (0.5, 2.5, 0.0), (2.0, 0.0, 0.1)])
def test_asl_matches_the_scalar_formula(gamma_pos, gamma_neg, margin):
    x, y = batch()
    expected = np.array([asl_scalar(a, b, gamma_pos, gamma_neg, margin) for a, b in zip(x.flatten().tolist(), y.flatten().tolist())])
    ours = asymmetric_loss(x, y, gamma_pos=gamma_pos, gamma_neg=gamma_neg, margin=margin, reduction="none")
    np.testing.assert_allclose(ours.flatten().numpy(), expected, rtol=1e-9, atol=1e-12)
    p = torch.sigmoid(x)
    from_probs = asymmetric_loss(p, y, gamma_pos=gamma_pos, gamma_neg=gamma_neg, margin=margin, from_logits=False)
    assert from_probs.item() == pytest.approx(expected.mean(), rel=1e-9)


def test_asl_without_focusing_or_margin_is_bce():
    x, y = batch(dtype=torch.float32)
    assert torch.allclose(asymmetric_loss(x, y, gamma_pos=0.0, gamma_neg=0.0, margin=0.0), F.binary_cross_entropy_with_logits(x, y), atol=1e-6)


def test_asl_margin_clips_easy_negatives():
    # p = 0.01, 0.04 below the margin 0.05: no loss and no gradient; p = 0.3 above it: log(1 - (0.3 - 0.05))
    p = torch.tensor([[0.01, 0.04, 0.3]], dtype=torch.float64, requires_grad=True)
    y = torch.zeros_like(p)
    loss = asymmetric_loss(p, y, gamma_neg=0.0, margin=0.05, from_logits=False, reduction="none")
    assert loss[0, :2].tolist() == [0.0, 0.0]
    assert loss[0, 2].item() == pytest.approx(-math.log(0.75), rel=1e-12)
    (grad,) = torch.autograd.grad(loss.sum(), p)
    assert grad[0, :2].tolist() == [0.0, 0.0] and grad[0, 2].item() == pytest.approx(1 / 0.75, rel=1e-9)
    # the margin never touches the positive term
    ones = torch.ones_like(p)
    assert torch.allclose(asymmetric_loss(p, ones, margin=0.05, gamma_pos=0.0, from_logits=False, reduction="none"), -torch.log(p))


def test_asl_all_zero_targets_and_finite_gradients():
    x = torch.tensor([[-1e4, -100.0, -3.0, -2.944, 0.0, 3.0, 100.0, 1e4]], requires_grad=True)  # sigmoid(-2.944) ~ 0.05
    for y_value in (0.0, 0.4, 1.0):
        y = torch.full_like(x, y_value)
        for margin in (0.0, 0.05):
            loss = asymmetric_loss(x, y, gamma_pos=1.0, gamma_neg=4.0, margin=margin)
            (grad,) = torch.autograd.grad(loss, x)
            assert torch.isfinite(loss) and loss >= 0 and torch.isfinite(grad).all()
    # all-zero targets: only the shifted negative term, which vanishes for every p <= m
    zeros = torch.zeros(2, 3, 4, dtype=torch.float64)
    assert asymmetric_loss(torch.full_like(zeros, -10.0), zeros).item() == 0.0


def test_asl_gradcheck():
    x, y = batch((2, 3, 4), scale=2.0)
    x = x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda i: asymmetric_loss(i, y, gamma_pos=1.0, gamma_neg=4.0, margin=0.05), (x,))
    assert torch.autograd.gradcheck(lambda i: asymmetric_loss(i, y, gamma_pos=0.5, gamma_neg=0.5, margin=0.0), (x,))


# --------------------------------------------------------------------------- logit-adjusted BCE


def labce_scalar(x: float, y: float, prior: float, tau: float) -> float:
    z = x + tau * math.log(prior / (1 - prior))
    p = sigmoid(z)
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


@pytest.mark.parametrize("tau", [1.0, 0.5, 2.0])
def test_logit_adjusted_bce_matches_the_scalar_formula(tau):
    x, y = batch(scale=2.0)
    prior = [0.02, 0.1, 0.3, 0.5, 0.9]
    expected = np.empty(x.shape)
    for b, c, t in np.ndindex(*x.shape):
        expected[b, c, t] = labce_scalar(x[b, c, t].item(), y[b, c, t].item(), prior[c], tau)
    ours = logit_adjusted_bce(x, y, prior, tau=tau, reduction="none")
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-9)
    # from probabilities (the weak, pooled output) the same loss, up to the eps clamp
    assert logit_adjusted_bce(torch.sigmoid(x), y, prior, tau=tau, from_logits=False).item() == pytest.approx(expected.mean(), rel=1e-6)
    # class axis last
    last = logit_adjusted_bce(x.transpose(1, 2), y.transpose(1, 2), prior, tau=tau, class_dim=-1, reduction="none")
    assert torch.allclose(last.transpose(1, 2), ours)


def test_logit_adjustment_with_even_priors_or_tau_0_is_bce():
    x, y = batch(dtype=torch.float32)
    reference = F.binary_cross_entropy_with_logits(x, y)
    assert torch.allclose(logit_adjusted_bce(x, y, [0.5] * 5), reference, atol=1e-6)
    assert torch.allclose(logit_adjusted_bce(x, y, [0.01, 0.2, 0.3, 0.4, 0.7], tau=0.0), reference, atol=1e-6)


def test_logit_adjustment_favours_rare_positives():
    """With a rare prior, the loss is minimised by a higher raw logit than BCE's: x* = logit(y) - logit(prior)."""
    y = torch.full((1, 1, 1), 0.2, dtype=torch.float64)
    x = torch.linspace(-6, 6, 12001, dtype=torch.float64).reshape(1, 1, -1)
    losses = logit_adjusted_bce(x, y.expand_as(x), [0.05], reduction="none").flatten()
    best = x.flatten()[losses.argmin()].item()
    assert best == pytest.approx(math.log(0.2 / 0.8) - math.log(0.05 / 0.95), abs=1e-3)


def test_logit_adjusted_bce_bad_priors_and_finite_gradients():
    x, y = batch((2, 3, 4))
    for bad in ([0.0, 0.5, 0.5], [0.5, 1.0, 0.5], [[0.5, 0.5, 0.5]]):
        with pytest.raises(ValueError, match="prior must be 1-D with every value in"):
            logit_adjusted_bce(x, y, bad)
    with pytest.raises(ValueError, match=r"prior must be \(3,\)"):
        logit_adjusted_bce(x, y, [0.5, 0.5])
    zeros = torch.zeros(2, 3, 4, dtype=torch.float64)
    x = (x * 1e3).requires_grad_(True)
    loss = logit_adjusted_bce(x, zeros, [0.001, 0.2, 0.999])
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    small = batch((2, 3, 4), scale=2.0)[0].requires_grad_(True)
    assert torch.autograd.gradcheck(lambda i: logit_adjusted_bce(i, y, [0.05, 0.3, 0.6]), (small,))


# --------------------------------------------------------------------------- OWBCE


def owbce_weights_loop(y: np.ndarray, alpha: float, sigma: int) -> np.ndarray:
    """Weights of one (T,) target row: every boundary between t - 1 and t adds alpha |dy| cos(pi d / (2 sigma))
    to each frame s at distance d = |s - (t - 1/2)| < sigma."""
    n_frames = len(y)
    weights = np.ones(n_frames)
    for t in range(1, n_frames):
        jump = abs(y[t] - y[t - 1])
        for s in range(n_frames):
            distance = abs(s - (t - 0.5))
            if distance < sigma:
                weights[s] += alpha * jump * math.cos(math.pi * distance / (2 * sigma))
    return weights


@pytest.mark.parametrize("alpha, sigma", [(1.0, 3), (2.5, 1), (0.5, 6)])
def test_owbce_matches_the_loop_formula_on_soft_and_hard_targets(alpha, sigma):
    x, y = batch((3, 4, 20))
    y[0] = (y[0] > 0.6).double()  # hard events in the first clip, soft (mixed-up-like) targets elsewhere
    p = torch.sigmoid(x).numpy()
    expected = np.empty(x.shape)
    for b, c in np.ndindex(*x.shape[:2]):
        row = y[b, c].numpy()
        bce = -(row * np.log(p[b, c]) + (1 - row) * np.log(1 - p[b, c]))
        expected[b, c] = owbce_weights_loop(row, alpha, sigma) * bce
    ours = onset_offset_weighted_bce(x, y, boundary_weight=alpha, boundary_frames=sigma, reduction="none")
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-9)
    # frames first, classes last: the same numbers
    moved = onset_offset_weighted_bce(x.transpose(1, 2), y.transpose(1, 2), boundary_weight=alpha, boundary_frames=sigma, frame_dim=1, reduction="none")
    assert torch.allclose(moved.transpose(1, 2), ours)


def test_owbce_weights_of_one_event_by_hand():
    y = torch.zeros(1, 1, 12)
    y[0, 0, 5:8] = 1.0  # onset between frames 4 and 5, offset between 7 and 8
    weights = boundary_weights(y, boundary_weight=1.0, boundary_frames=2)[0, 0]
    near, far = math.cos(math.pi / 8), math.cos(3 * math.pi / 8)
    expected = [1, 1, 1, 1 + far, 1 + near, 1 + near, 1 + 2 * far, 1 + near, 1 + near, 1 + far, 1, 1]
    np.testing.assert_allclose(weights.numpy(), expected, rtol=1e-6)


def test_owbce_edge_cases_equal_bce():
    x, y = batch(dtype=torch.float32)
    reference = F.binary_cross_entropy_with_logits(x, y)
    assert torch.allclose(onset_offset_weighted_bce(x, y, boundary_weight=0.0), reference, atol=1e-6)  # weight 1 everywhere
    zeros = torch.zeros_like(y)
    assert torch.allclose(onset_offset_weighted_bce(x, zeros), F.binary_cross_entropy_with_logits(x, zeros), atol=1e-6)  # no boundary
    constant = torch.ones_like(y)  # an event over the whole clip: no onset or offset inside it
    assert torch.allclose(onset_offset_weighted_bce(x, constant), F.binary_cross_entropy_with_logits(x, constant), atol=1e-6)
    clip_x, clip_y = x[:, :, 0], y[:, :, 0]  # clip level (B, C): plain BCE
    assert torch.allclose(onset_offset_weighted_bce(clip_x, clip_y), F.binary_cross_entropy_with_logits(clip_x, clip_y), atol=1e-6)
    assert torch.allclose(OnsetOffsetWeightedBCE()(torch.sigmoid(clip_x), clip_y, from_logits=False), F.binary_cross_entropy(torch.sigmoid(clip_x), clip_y), atol=1e-5)


def test_owbce_weights_raise_the_loss_only_near_boundaries_and_gradients_are_finite():
    x = torch.randn(2, 3, 30, generator=GEN, dtype=torch.float64).mul(1e3).requires_grad_(True)
    y = torch.zeros(2, 3, 30, dtype=torch.float64)
    y[:, :, 10:20] = 1.0
    loss = onset_offset_weighted_bce(x, y, reduction="none")
    bce = binary_cross_entropy(x.detach(), y, reduction="none")
    # 1 <= w_t <= 1 + cos(pi / 12); the log-sigmoid of the loss and this BCE round differently by about 1e-15
    # (absolute) where a term is tiny (x = -27: 1.2e-12), so the bounds are checked on the terms, not their ratio
    lowest, highest = bce - 1e-14, (1 + math.cos(math.pi / 12)) * bce * (1 + 1e-12) + 1e-14
    assert ((loss.detach() >= lowest) & (loss.detach() <= highest)).all()
    assert (loss.detach() > 1.25 * bce + 1e-14).any()  # some terms are raised
    assert torch.allclose(loss[:, :, :7].detach(), bce[:, :, :7], rtol=1e-12, atol=1e-12)  # frames 7-9 before the onset are raised
    assert (boundary_weights(y)[:, :, 7:10] > 1.25).all() and (boundary_weights(y)[:, :, :7] == 1).all()
    (grad,) = torch.autograd.grad(loss.mean(), x)
    assert torch.isfinite(grad).all()
    small = batch((2, 3, 9), scale=2.0)[0].requires_grad_(True)
    assert torch.autograd.gradcheck(lambda i: onset_offset_weighted_bce(i, y[:, :, :9], boundary_frames=2), (small,))


def test_bad_parameters():
    x, y = batch((2, 3, 4))
    with pytest.raises(ValueError, match="margin must be in"):
        asymmetric_loss(x, y, margin=1.0)
    with pytest.raises(ValueError, match="gamma_pos and gamma_neg must be >= 0"):
        AsymmetricLoss(gamma_neg=-1.0)(x, y)
    with pytest.raises(ValueError, match="tau must be >= 0"):
        logit_adjusted_bce(x, y, [0.5] * 3, tau=-1.0)
    with pytest.raises(ValueError, match="boundary_frames must be an integer >= 1"):
        OnsetOffsetWeightedBCE(boundary_frames=0)
    with pytest.raises(ValueError, match="boundary_weight must be >= 0"):
        OnsetOffsetWeightedBCE(boundary_weight=-0.5)
    with pytest.raises(ValueError, match="same shape"):
        asymmetric_loss(x, y[..., :2])


def test_modules_match_functions_and_carry_the_prior():
    x, y = batch(dtype=torch.float32)
    assert torch.equal(AsymmetricLoss(1.0, 3.0, 0.1)(x, y), asymmetric_loss(x, y, gamma_pos=1.0, gamma_neg=3.0, margin=0.1))
    prior = [0.05, 0.1, 0.2, 0.4, 0.6]
    module = LogitAdjustedBCE(prior, tau=0.7)
    assert torch.allclose(module(x, y), logit_adjusted_bce(x, y, prior, tau=0.7))
    assert torch.allclose(module.state_dict()["prior"], torch.tensor(prior))
    assert torch.equal(OnsetOffsetWeightedBCE(2.0, 4)(x, y), onset_offset_weighted_bce(x, y, boundary_weight=2.0, boundary_frames=4))
    assert "gamma_neg=3.0" in repr(AsymmetricLoss(1.0, 3.0, 0.1)) and "tau=0.7" in repr(module)


def test_half_inputs_are_computed_in_float32():
    x, y = batch((2, 5, 16), dtype=torch.float32)
    for loss in (
        lambda i, t: asymmetric_loss(i, t),
        lambda i, t: logit_adjusted_bce(i, t, [0.1] * 5),
        lambda i, t: onset_offset_weighted_bce(i, t),
    ):
        half = loss(x.half(), y.half())
        assert half.dtype == torch.float32
        assert torch.allclose(half, loss(x.half().float(), y.half().float()), atol=1e-6)
