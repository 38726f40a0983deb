import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tbfl.losses import (
    BinaryCrossEntropy,
    ClassBalancedFocalLoss,
    FocalLoss,
    TimeBalancedFocalLoss,
    binary_cross_entropy,
    class_balanced_focal_loss,
    focal_loss,
    time_balanced_focal_loss,
)
from tbfl.weights import class_balanced_weights

GEN = torch.Generator().manual_seed(0)


def batch(shape=(4, 10, 7), scale=3.0, soft=True, dtype=torch.float64):
    logits = torch.randn(shape, generator=GEN, dtype=dtype) * scale
    target = torch.rand(shape, generator=GEN, dtype=dtype)
    if not soft:
        target = (target > 0.5).to(dtype)
    return logits, target


def paper_formula(p, y, gamma, w=None, a_pos=1.0, a_neg=1.0, class_dim=1):
    """Eq. (1)/(3)/(4) written naively, valid for moderate p in float64."""
    loss = -(a_pos * y * (1 - p) ** gamma * torch.log(p) + a_neg * (1 - y) * p**gamma * torch.log(1 - p))
    if w is not None:
        shape = [1] * loss.ndim
        shape[class_dim] = -1
        loss = loss * torch.as_tensor(w, dtype=loss.dtype).reshape(shape)
    return loss.mean()


@pytest.mark.parametrize("shape", [(8, 10), (4, 10, 156)])
def test_gamma0_unweighted_equals_torch_bce(shape):
    x, y = batch(shape, dtype=torch.float32)
    reference = F.binary_cross_entropy_with_logits(x, y)
    assert torch.allclose(binary_cross_entropy(x, y), reference, atol=1e-6)
    assert torch.allclose(focal_loss(x, y, gamma=0.0), reference, atol=1e-6)
    assert torch.allclose(time_balanced_focal_loss(x, y, torch.ones(10), gamma=0.0), reference, atol=1e-6)
    assert torch.allclose(focal_loss(x, y, gamma=0.0, alpha=0.5), reference / 2, atol=1e-6)


def test_probability_input_equals_torch_bce():
    x, y = batch(dtype=torch.float32)
    p = torch.sigmoid(x)
    assert torch.allclose(binary_cross_entropy(p, y, from_logits=False), F.binary_cross_entropy(p, y), atol=1e-5)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.7])
@pytest.mark.parametrize("from_logits", [True, False])
def test_matches_paper_formula_at_soft_targets(gamma, from_logits):
    x, y = batch()
    p = torch.sigmoid(x)
    w = torch.rand(10, generator=GEN, dtype=torch.float64) + 0.5
    inp = x if from_logits else p
    assert torch.allclose(time_balanced_focal_loss(inp, y, w, gamma=gamma, from_logits=from_logits), paper_formula(p, y, gamma, w), rtol=1e-10)
    assert torch.allclose(
        focal_loss(inp, y, gamma=gamma, alpha=0.25, from_logits=from_logits), paper_formula(p, y, gamma, a_pos=0.25, a_neg=0.75), rtol=1e-10
    )


def test_class_balanced_focal_loss_uses_cui_weights():
    x, y = batch()
    counts, beta = [5, 50, 500, 5, 50, 500, 5, 50, 500, 9], 0.99
    w = class_balanced_weights(counts, beta)
    expected = paper_formula(torch.sigmoid(x), y, 2.0, w)
    assert torch.allclose(class_balanced_focal_loss(x, y, counts=counts, beta=beta), expected, rtol=1e-10)
    assert torch.allclose(ClassBalancedFocalLoss(counts, beta)(x, y), expected, rtol=1e-6)


def test_class_dim_last():
    x, y = batch((4, 7, 10))
    w = torch.linspace(0.5, 1.5, 10, dtype=torch.float64)
    moved = time_balanced_focal_loss(x.transpose(1, 2), y.transpose(1, 2), w, reduction="none")
    last = time_balanced_focal_loss(x, y, w, class_dim=-1, reduction="none")
    assert torch.allclose(moved.transpose(1, 2), last)


def test_reductions_and_mask():
    x, y = batch()
    w = torch.ones(10, dtype=torch.float64)
    none = time_balanced_focal_loss(x, y, w, reduction="none")
    assert none.shape == x.shape
    assert torch.allclose(time_balanced_focal_loss(x, y, w, reduction="sum"), none.sum())
    clip_mask = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64).reshape(4, 1, 1)
    masked = time_balanced_focal_loss(x, y, w, mask=clip_mask)
    assert torch.allclose(masked, none[[0, 2]].mean())
    assert time_balanced_focal_loss(x, y, w, mask=torch.zeros(4, 1, 1)) == 0
    with pytest.raises(ValueError, match="reduction"):
        time_balanced_focal_loss(x, y, w, reduction="max")


def test_bad_arguments():
    x, y = batch()
    with pytest.raises(ValueError, match="same shape"):
        focal_loss(x, y[:, :, :3])
    with pytest.raises(ValueError, match="weight must be"):
        time_balanced_focal_loss(x, y, torch.ones(9))
    with pytest.raises(ValueError, match="gamma"):
        focal_loss(x, y, gamma=-1)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("from_logits", [True, False])
def test_gradcheck_every_loss(gamma, from_logits):
    x, y = batch((2, 3, 4), scale=2.0)
    inp = (x if from_logits else torch.sigmoid(x)).detach().requires_grad_(True)
    w = torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64)
    kw = dict(from_logits=from_logits)
    losses = [
        lambda i: binary_cross_entropy(i, y, **kw),
        lambda i: focal_loss(i, y, gamma=gamma, alpha=0.3, **kw),
        lambda i: class_balanced_focal_loss(i, y, counts=[3, 30, 300], beta=0.9, gamma=gamma, **kw),
        lambda i: time_balanced_focal_loss(i, y, w, gamma=gamma, **kw),
    ]
    for loss in losses:
        assert torch.autograd.gradcheck(loss, (inp,))


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.0, 5.0])
def test_extreme_logits_finite(gamma):
    x = torch.tensor([[-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4]], requires_grad=True).reshape(1, 7, 1)
    for y_value in (0.0, 0.3, 1.0):
        y = torch.full_like(x, y_value)
        loss = time_balanced_focal_loss(x, y, torch.ones(7), gamma=gamma)
        (grad,) = torch.autograd.grad(loss, x)
        assert torch.isfinite(loss) and loss >= 0
        assert torch.isfinite(grad).all()
    # a confident wrong prediction costs about |x| (BCE) and its gradient is not zero
    wrong = binary_cross_entropy(torch.tensor([[1e4]]), torch.tensor([[0.0]]))
    assert wrong == pytest.approx(1e4)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_probabilities_exactly_zero_and_one(gamma):
    p = torch.tensor([[0.0, 1.0, 0.5, 0.0, 1.0]], requires_grad=True)
    y = torch.tensor([[0.0, 1.0, 1.0, 1.0, 0.0]])
    loss = focal_loss(p, y, gamma=gamma, from_logits=False)
    (grad,) = torch.autograd.grad(loss, p)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    # a confident wrong probability is penalised near -log(eps), not infinitely, and still learns
    assert 1.0 < loss.item() < 20.0
    assert grad[0, 3] < 0 and grad[0, 4] > 0


@pytest.mark.parametrize("dtype", [torch.bfloat16])
def test_autocast_cpu(dtype):
    x, y = batch((4, 10, 20), scale=30.0, dtype=torch.float32)
    lin = torch.nn.Linear(20, 20)
    with torch.autocast("cpu", dtype=dtype):
        h = lin(x)
        assert h.dtype == dtype
        loss = time_balanced_focal_loss(h, y, torch.ones(10), gamma=0.5)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert torch.isfinite(lin.weight.grad).all()


def test_half_inputs_are_computed_in_float32():
    x, y = batch((4, 10, 20), scale=8.0, dtype=torch.float32)
    half = focal_loss(x.half(), y.half(), gamma=0.5)
    assert half.dtype == torch.float32
    assert torch.allclose(half, focal_loss(x.half().float(), y.half().float(), gamma=0.5), atol=1e-6)


def test_modules_match_functions_and_carry_weights():
    x, y = batch(dtype=torch.float32)
    w = torch.linspace(0.2, 1.8, 10)
    module = TimeBalancedFocalLoss(w, gamma=1.5)
    assert torch.allclose(module(x, y), time_balanced_focal_loss(x, y, w, gamma=1.5))
    assert torch.allclose(module.state_dict()["weight"], w)
    p = torch.sigmoid(x)
    assert torch.allclose(module(p, y, from_logits=False), time_balanced_focal_loss(p, y, w, gamma=1.5, from_logits=False), atol=1e-6)
    assert torch.allclose(FocalLoss(2.0, 0.25)(x, y), focal_loss(x, y, gamma=2.0, alpha=0.25))
    assert torch.allclose(BinaryCrossEntropy()(x, y), F.binary_cross_entropy_with_logits(x, y), atol=1e-6)
    assert "gamma=1.5" in repr(module)


def test_focal_down_weights_easy_examples():
    y = torch.ones(1, 2)
    x = torch.tensor([[5.0, -1.0]])  # easy positive, hard positive
    bce = binary_cross_entropy(x, y, reduction="none")
    fl = focal_loss(x, y, gamma=2.0, reduction="none")
    ratio = fl / bce
    assert ratio[0, 0] < 1e-4 and ratio[0, 1] > 0.5


@settings(max_examples=60, deadline=None)
@given(
    batch_size=st.integers(1, 4),
    n_classes=st.integers(1, 6),
    n_frames=st.integers(1, 9),
    log_scale=st.floats(-2, 4),
    gamma=st.floats(0, 5),
    from_logits=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_finite_and_non_negative(batch_size, n_classes, n_frames, log_scale, gamma, from_logits, seed):
    gen = torch.Generator().manual_seed(seed)
    shape = (batch_size, n_classes, n_frames)
    x = torch.randn(shape, generator=gen) * 10**log_scale
    y = torch.rand(shape, generator=gen)
    y = torch.where(torch.rand(shape, generator=gen) < 0.3, y.round(), y)  # mix hard and soft targets
    inp = (x if from_logits else torch.sigmoid(x)).requires_grad_(True)
    w = torch.rand(n_classes, generator=gen) * 2
    loss = time_balanced_focal_loss(inp, y, w, gamma=gamma, from_logits=from_logits, reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), inp)
    assert torch.isfinite(loss).all() and (loss >= 0).all()
    assert torch.isfinite(grad).all()
    # focal never exceeds cross-entropy (the modulating factors are <= 1)
    bce = binary_cross_entropy(inp.detach(), y, weight=w, from_logits=from_logits, reduction="none")
    assert (loss <= bce + 1e-5 * (1 + bce)).all()
