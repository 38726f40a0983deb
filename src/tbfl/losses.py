"""The paper's loss family: BCE, focal (eq. 1), class-balanced focal (eq. 3), TBFL (eq. 4).

All four are one elementwise formula evaluated at a (possibly soft) target y:

    loss = -w_c * [ a_pos * y * (1 - p)**gamma * log(p) + a_neg * (1 - y) * p**gamma * log(1 - p) ]

- BCE:   gamma = 0, a_pos = a_neg = 1, w_c = 1
- FL:    a_pos = alpha, a_neg = 1 - alpha (both 1 when alpha is None), w_c = 1
- CBFL:  a_pos = a_neg = 1, w_c = class-balanced weights (Cui et al.), sum C
- TBFL:  a_pos = a_neg = 1, w_c = time-balanced weights (tbfl.weights), sum C

Inputs are logits (default) or probabilities (``from_logits=False``, e.g. the
attention-pooled weak output of the CRNN). From logits, log p = logsigmoid(x)
and log(1 - p) = logsigmoid(-x), and the modulating factors are
exp(gamma * log(1 - p)) and exp(gamma * log p): finite values and gradients for
any logit and any gamma >= 0, including 0 < gamma < 1. From probabilities, p is
clamped to [eps, 1 - eps] (eps = 1e-7) before the logs. Half-precision inputs
(autocast) are computed in float32.

Shapes: ``input`` and ``target`` are (B, C) or (B, C, T) (any shape with a
class axis ``class_dim``); ``weight`` is (C,). ``mask`` broadcasts to
``input``; "mean" averages over unmasked elements, i.e. over batch, classes and
frames as in the paper, so BCE "mean" equals
``F.binary_cross_entropy_with_logits(x, y)``.
"""

from __future__ import annotations

from typing import Literal, Sequence

import torch
from torch import Tensor, nn

from tbfl.weights import class_balanced_weights

Reduction = Literal["mean", "sum", "none"]
PROBABILITY_EPS = 1e-7


def _log_probabilities(input: Tensor, from_logits: bool) -> tuple[Tensor, Tensor]:
    """(log p, log(1 - p)) of the positive class, in float32 or float64."""
    if input.dtype in (torch.float16, torch.bfloat16):
        input = input.float()
    if from_logits:
        return nn.functional.logsigmoid(input), nn.functional.logsigmoid(-input)
    # straight-through clamp: the logs see [eps, 1 - eps], the gradient still reaches saturated inputs
    p = input + (input.clamp(PROBABILITY_EPS, 1.0 - PROBABILITY_EPS) - input).detach()
    return torch.log(p), torch.log1p(-p)


class _FocalFromLogits(torch.autograd.Function):
    """Elementwise weighted focal loss from logits with a closed-form gradient.

    With p = sigmoid(x), q = 1 - p, lp = log p = logsigmoid(x), lq = log q = lp - x:
        loss     = -w [a_pos y q^g lp + a_neg (1 - y) p^g lq]
        dloss/dx =  w [a_neg (1 - y) p^g (p - g q lq) - a_pos y q^g (q - g p lp)]
    Every factor is finite for any logit and any g >= 0 (p, q in [0, 1], lp, lq
    finite). One transcendental pass (logsigmoid) and a few fused multiply-adds
    instead of autograd's chain of exp/log kernels (benchmarks/bench_losses.py).
    ``weight`` broadcasts to ``x`` or is None.
    """

    @staticmethod
    def forward(ctx, x: Tensor, y: Tensor, weight: Tensor | None, gamma: float, a_pos: float, a_neg: float) -> Tensor:
        log_p = nn.functional.logsigmoid(x)
        log_q = log_p - x
        p = torch.sigmoid(x)
        q = 1.0 - p
        if weight is None:
            pos, neg = y, 1.0 - y
        else:
            pos = y * weight
            neg = weight - pos  # (1 - y) w
        if a_pos != 1.0 or a_neg != 1.0:
            pos, neg = pos * a_pos, neg * a_neg
        if gamma != 0:
            pos = pos * torch.pow(q, gamma)
            neg = neg * torch.pow(p, gamma)
        loss = torch.addcmul(neg * log_q, pos, log_p).neg_()
        ctx.save_for_backward(log_p, log_q, p, q, pos, neg)
        ctx.gamma = gamma
        return loss

    @staticmethod
    def backward(ctx, grad_loss: Tensor):
        log_p, log_q, p, q, pos, neg = ctx.saved_tensors
        gamma = ctx.gamma
        negative_part = torch.addcmul(p, q, log_q, value=-gamma) if gamma != 0 else p  # p - g q lq
        positive_part = torch.addcmul(q, p, log_p, value=-gamma) if gamma != 0 else q  # q - g p lp
        grad = torch.addcmul(neg * negative_part, pos, positive_part, value=-1.0)
        return grad.mul_(grad_loss), None, None, None, None, None


def _class_weight_shape(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    """Reshape a (C,) weight so it broadcasts along ``class_dim`` of an ``ndim`` tensor."""
    shape = [1] * ndim
    shape[class_dim] = -1
    return weight.reshape(shape)


def _reduce(loss: Tensor, mask: Tensor | None, reduction: Reduction) -> Tensor:
    if mask is not None:
        mask = mask.to(loss.dtype).expand_as(loss)
        loss = loss * mask
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        if mask is None:
            return loss.mean()
        return loss.sum() / mask.sum().clamp(min=1.0)
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def weighted_focal_loss(
    input: Tensor,
    target: Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    weight: Tensor | Sequence[float] | None = None,
    from_logits: bool = True,
    class_dim: int = 1,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """The general elementwise formula above; the four losses are special cases.

    Args:
        input: logits or probabilities, (B, C) or (B, C, T).
        target: same shape, values in [0, 1] (soft targets allowed).
        gamma: focusing parameter >= 0 (0 gives cross-entropy).
        alpha: weight of the positive term in (0, 1); the negative term gets 1 - alpha.
        weight: (C,) per-class weights along ``class_dim``.
        mask: broadcastable to ``input``; masked-out elements count neither in the sum nor in the mean.
    """
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    if alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if input.shape != target.shape:
        raise ValueError(f"input {tuple(input.shape)} and target {tuple(target.shape)} must have the same shape")
    if weight is not None:
        weight = torch.as_tensor(weight, device=input.device)
        if weight.ndim != 1 or weight.numel() != input.shape[class_dim]:
            raise ValueError(f"weight must be ({input.shape[class_dim]},) along class_dim={class_dim}, got {tuple(weight.shape)}")
    a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1.0 - alpha)
    if from_logits and not target.requires_grad and (weight is None or not weight.requires_grad):
        x = input.float() if input.dtype in (torch.float16, torch.bfloat16) else input
        class_weight = None if weight is None else _class_weight_shape(weight.to(x.dtype), x.ndim, class_dim)
        loss = _FocalFromLogits.apply(x, target.to(x.dtype), class_weight, float(gamma), a_pos, a_neg)
        return _reduce(loss, mask, reduction)
    log_p, log_1mp = _log_probabilities(input, from_logits)
    target = target.to(log_p.dtype)
    positive = target * log_p
    negative = (1.0 - target) * log_1mp
    if gamma != 0:
        positive = positive * torch.exp(gamma * log_1mp)  # (1 - p)**gamma
        negative = negative * torch.exp(gamma * log_p)  # p**gamma
    loss = -(a_pos * positive + a_neg * negative)
    if weight is not None:
        loss = loss * _class_weight_shape(weight.to(loss.dtype), loss.ndim, class_dim)
    return _reduce(loss, mask, reduction)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    *,
    from_logits: bool = True,
    weight: Tensor | Sequence[float] | None = None,
    class_dim: int = 1,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Binary cross-entropy, the baseline's loss: -[y log p + (1 - y) log(1 - p)] (times w_c)."""
    return weighted_focal_loss(
        input, target, gamma=0.0, weight=weight, from_logits=from_logits, class_dim=class_dim, mask=mask, reduction=reduction
    )


def focal_loss(
    input: Tensor,
    target: Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    from_logits: bool = True,
    class_dim: int = 1,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Alpha-balanced focal loss (eq. 1); ``alpha=None`` weights both terms by 1."""
    return weighted_focal_loss(
        input, target, gamma=gamma, alpha=alpha, from_logits=from_logits, class_dim=class_dim, mask=mask, reduction=reduction
    )


def class_balanced_focal_loss(
    input: Tensor,
    target: Tensor,
    *,
    counts: Sequence[float],
    beta: float,
    gamma: float = 2.0,
    from_logits: bool = True,
    class_dim: int = 1,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Class-balanced focal loss (eq. 3) with weights 1 / E(n_c, beta) normalised to sum C."""
    weight = torch.as_tensor(class_balanced_weights(counts, beta))
    return weighted_focal_loss(
        input, target, gamma=gamma, weight=weight, from_logits=from_logits, class_dim=class_dim, mask=mask, reduction=reduction
    )


def time_balanced_focal_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | Sequence[float],
    *,
    gamma: float = 2.0,
    from_logits: bool = True,
    class_dim: int = 1,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Time-balanced focal loss (eq. 4); ``weight`` is (C,) from :func:`tbfl.weights.time_balanced_weights`."""
    return weighted_focal_loss(
        input, target, gamma=gamma, weight=weight, from_logits=from_logits, class_dim=class_dim, mask=mask, reduction=reduction
    )


class WeightedFocalLoss(nn.Module):
    """Module form: fixed gamma, alpha and class weights (a buffer, so it follows ``.to(device)`` and checkpoints)."""

    def __init__(
        self,
        weight: Tensor | Sequence[float] | None = None,
        *,
        gamma: float = 2.0,
        alpha: float | None = None,
        from_logits: bool = True,
        class_dim: int = 1,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        self.gamma, self.alpha, self.from_logits = gamma, alpha, from_logits
        self.class_dim, self.reduction = class_dim, reduction
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None, *, from_logits: bool | None = None) -> Tensor:
        """``from_logits`` overrides the module's setting for one call (e.g. the weak, pooled probabilities)."""
        return weighted_focal_loss(
            input,
            target,
            gamma=self.gamma,
            alpha=self.alpha,
            weight=self.weight,
            from_logits=self.from_logits if from_logits is None else from_logits,
            class_dim=self.class_dim,
            mask=mask,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        weight = None if self.weight is None else [round(w, 3) for w in self.weight.tolist()]
        return f"gamma={self.gamma}, alpha={self.alpha}, weight={weight}, from_logits={self.from_logits}"


class BinaryCrossEntropy(WeightedFocalLoss):
    """Module form of :func:`binary_cross_entropy`."""

    def __init__(self, weight=None, *, from_logits: bool = True, class_dim: int = 1, reduction: Reduction = "mean") -> None:
        super().__init__(weight, gamma=0.0, from_logits=from_logits, class_dim=class_dim, reduction=reduction)


class FocalLoss(WeightedFocalLoss):
    """Module form of :func:`focal_loss`."""

    def __init__(self, gamma: float = 2.0, alpha: float | None = None, *, from_logits: bool = True, class_dim: int = 1, reduction: Reduction = "mean") -> None:
        super().__init__(None, gamma=gamma, alpha=alpha, from_logits=from_logits, class_dim=class_dim, reduction=reduction)


class ClassBalancedFocalLoss(WeightedFocalLoss):
    """Module form of :func:`class_balanced_focal_loss`.

    Give ``counts`` (C,) and ``beta``, whose weights are computed here, or ``weight`` (C,), weights already
    computed by :func:`tbfl.weights.class_balanced_weights` (as a checkpoint's hyper-parameters hold them).
    """

    def __init__(
        self,
        counts: Sequence[float] | None = None,
        beta: float | None = None,
        gamma: float = 2.0,
        *,
        weight: Tensor | Sequence[float] | None = None,
        from_logits: bool = True,
        class_dim: int = 1,
        reduction: Reduction = "mean",
    ) -> None:
        if (counts is not None, beta is not None, weight is not None) not in ((True, True, False), (False, False, True)):
            raise ValueError("ClassBalancedFocalLoss takes counts and beta, or weight (already class-balanced weights)")
        if weight is None:
            weight = class_balanced_weights(counts, beta)
        super().__init__(weight, gamma=gamma, from_logits=from_logits, class_dim=class_dim, reduction=reduction)


class TimeBalancedFocalLoss(WeightedFocalLoss):
    """Module form of :func:`time_balanced_focal_loss`."""

    def __init__(self, weight: Tensor | Sequence[float], gamma: float = 2.0, from_logits: bool = True, *, class_dim: int = 1, reduction: Reduction = "mean") -> None:
        super().__init__(weight, gamma=gamma, from_logits=from_logits, class_dim=class_dim, reduction=reduction)


# --------------------------------------------------------------------------- the field's competing losses


def _check_shapes(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(f"input {tuple(input.shape)} and target {tuple(target.shape)} must have the same shape")


def asymmetric_loss(
    input: Tensor,
    target: Tensor,
    *,
    gamma_pos: float = 0.0,
    gamma_neg: float = 4.0,
    margin: float = 0.05,
    from_logits: bool = True,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Asymmetric loss (ASL, Ridnik et al., ICCV 2021, arXiv:2009.14119), elementwise:

        loss = -[ y (1 - p)**gamma_pos log p + (1 - y) p_m**gamma_neg log(1 - p_m) ],  p_m = max(p - m, 0)

    A soft target y in [0, 1] weights the positive and the negative term linearly (as the focal family above);
    the margin m shifts only the negative term, so a negative with p <= m costs nothing (and has no gradient).
    gamma_pos = gamma_neg = m = 0 gives BCE. Defaults: the paper's multi-label setting (0, 4, 0.05).

    Args:
        input: logits (or probabilities with ``from_logits=False``), any shape, e.g. (B, C) or (B, C, T).
        target: same shape, values in [0, 1].
        mask, reduction: as :func:`weighted_focal_loss`.
    """
    if gamma_pos < 0 or gamma_neg < 0:
        raise ValueError(f"gamma_pos and gamma_neg must be >= 0, got {gamma_pos} and {gamma_neg}")
    if not 0 <= margin < 1:
        raise ValueError(f"margin must be in [0, 1), got {margin}")
    _check_shapes(input, target)
    log_p, log_q = _log_probabilities(input, from_logits)  # log p, log(1 - p)
    target = target.to(log_p.dtype)
    if margin == 0:
        log_pm, log_1mpm = log_p, log_q
    else:
        shifted = torch.exp(log_p) - margin  # p - m
        active = shifted > 0
        log_pm = torch.log(torch.where(active, shifted, torch.ones_like(shifted)))  # log p_m where p > m (0 elsewhere, unused)
        log_1mpm = torch.where(active, torch.log(torch.exp(log_q) + margin), torch.zeros_like(shifted))  # log(1 - p_m)
    positive = target * log_p
    negative = (1.0 - target) * log_1mpm
    if gamma_pos != 0:
        positive = positive * torch.exp(gamma_pos * log_q)  # (1 - p)**gamma_pos
    if gamma_neg != 0:
        negative = negative * torch.exp(gamma_neg * log_pm)  # p_m**gamma_neg (times log 1 = 0 where p <= m)
    return _reduce(-(positive + negative), mask, reduction)


def prior_offsets(prior: Tensor | Sequence[float], tau: float = 1.0) -> Tensor:
    """(C,) logit offsets tau * log(prior_c / (1 - prior_c)) of per-class positive priors in (0, 1)."""
    prior = torch.as_tensor(prior, dtype=torch.float64)
    if prior.ndim != 1 or not bool(((prior > 0) & (prior < 1)).all()):
        raise ValueError(f"prior must be 1-D with every value in (0, 1), got {prior.tolist()}")
    return tau * (torch.log(prior) - torch.log1p(-prior))


def logit_adjusted_bce(
    input: Tensor,
    target: Tensor,
    prior: Tensor | Sequence[float],
    *,
    tau: float = 1.0,
    from_logits: bool = True,
    class_dim: int = 1,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Logit-adjusted BCE (Menon et al., ICLR 2021, arXiv:2007.07314, per class as a binary problem):

        loss = BCE(x + tau * log(prior_c / (1 - prior_c)), y)

    ``prior`` (C,) is each class's positive rate in (0, 1) (in training: the share of the strong set's frames in
    which the class is active, ``DatasetStats.frame_rates``). The offset is the log prior odds of class c's
    positive label, Menon et al.'s tau * log pi_y applied to the two labels {c active, c inactive}; tau = 1 is
    their default. The offset is applied in training only: predictions use the raw logits x, which a rare class
    (prior < 0.5, negative offset) therefore pushes up. prior_c = 0.5 (offset 0) gives BCE.
    From probabilities (``from_logits=False``), x = log p - log(1 - p) with p clamped to [eps, 1 - eps].
    """
    if tau < 0:
        raise ValueError(f"tau must be >= 0, got {tau}")
    _check_shapes(input, target)
    log_p, log_q = _log_probabilities(input, from_logits)
    logits = log_p - log_q  # x itself from logits (up to rounding), logit(p) from probabilities
    offsets = prior_offsets(prior, tau).to(device=logits.device, dtype=logits.dtype)
    if offsets.numel() != logits.shape[class_dim]:
        raise ValueError(f"prior must be ({logits.shape[class_dim]},) along class_dim={class_dim}, got {tuple(offsets.shape)}")
    adjusted = logits + _class_weight_shape(offsets, logits.ndim, class_dim)
    loss = nn.functional.binary_cross_entropy_with_logits(adjusted, target.to(adjusted.dtype), reduction="none")
    return _reduce(loss, mask, reduction)


def boundary_weights(target: Tensor, *, boundary_weight: float = 1.0, boundary_frames: int = 3, frame_dim: int = -1) -> Tensor:
    """OWBCE's frame weights (same shape as ``target`` (B, C, T)): 1 + alpha * sum_b |dy_b| h(distance to b).

    Boundary b lies between frames t - 1 and t (at t - 1/2) with strength |y_t - y_{t-1}| (1 at a hard onset or
    offset, a fraction at a soft, e.g. mixed-up, one). h is a half-cosine of half-width sigma = ``boundary_frames``:
    h(d) = cos(pi d / (2 sigma)) for the frame distances d = 1/2, 3/2, ..., sigma - 1/2, 0 beyond, so the sigma
    frames on each side of a hard boundary get weights from 1 + alpha cos(pi / (4 sigma)) down to
    1 + alpha sin(pi / (4 sigma)). Nearby boundaries add up. No boundary is counted at the clip's edges.
    """
    if boundary_weight < 0:
        raise ValueError(f"boundary_weight must be >= 0, got {boundary_weight}")
    if int(boundary_frames) != boundary_frames or boundary_frames < 1:
        raise ValueError(f"boundary_frames must be an integer >= 1, got {boundary_frames}")
    sigma = int(boundary_frames)
    y = target.detach().movedim(frame_dim, -1)
    if y.dtype in (torch.float16, torch.bfloat16):
        y = y.float()
    n_frames = y.shape[-1]
    strength = (y[..., 1:] - y[..., :-1]).abs().reshape(-1, 1, n_frames - 1)  # boundary t - 1/2 at index t - 1
    distance = torch.arange(sigma - 0.5, -sigma, -1.0, dtype=y.dtype, device=y.device).abs()  # sigma - 1/2 ... 1/2 ... sigma - 1/2
    window = torch.cos(torch.pi * distance / (2 * sigma)).reshape(1, 1, -1)
    spread = nn.functional.conv1d(nn.functional.pad(strength, (sigma, sigma)), window)  # (N, 1, T)
    return (1.0 + boundary_weight * spread).reshape(y.shape).movedim(-1, frame_dim)


def onset_offset_weighted_bce(
    input: Tensor,
    target: Tensor,
    *,
    boundary_weight: float = 1.0,
    boundary_frames: int = 3,
    from_logits: bool = True,
    frame_dim: int | None = -1,
    mask: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Onset/offset-weighted BCE (OWBCE, T. Song, arXiv:2403.13254): BCE times :func:`boundary_weights` of the target.

        loss_t = w_t * BCE(x_t, y_t),  w_t = 1 + alpha * sum_b |dy_b| h(|t - b|)

    alpha = ``boundary_weight`` (default 1: a frame next to a hard boundary weighs about 2), sigma =
    ``boundary_frames`` (default 3 frames each side, 192 ms on the 64 ms grid, about the 200 ms onset collar of
    event-F1). These defaults are ours: the paper's window and weight parametrisation (alpha, sigma) is followed, its
    chosen values could not be read (see docs/losses-competing.md).
    A clip-level input (``frame_dim=None``, or no axis besides batch and class: ``input.ndim <= 2``) has no
    onsets: plain BCE. "mean" averages the weighted terms over elements (the weights are not renormalised).
    """
    _check_shapes(input, target)
    log_p, log_q = _log_probabilities(input, from_logits)
    target_f = target.to(log_p.dtype)
    loss = -(target_f * log_p + (1.0 - target_f) * log_q)
    if frame_dim is not None and input.ndim > 2:
        loss = loss * boundary_weights(target_f, boundary_weight=boundary_weight, boundary_frames=boundary_frames, frame_dim=frame_dim)
    elif boundary_weight < 0:
        raise ValueError(f"boundary_weight must be >= 0, got {boundary_weight}")
    return _reduce(loss, mask, reduction)


class AsymmetricLoss(nn.Module):
    """Module form of :func:`asymmetric_loss`."""

    def __init__(self, gamma_pos: float = 0.0, gamma_neg: float = 4.0, margin: float = 0.05, *, from_logits: bool = True, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.gamma_pos, self.gamma_neg, self.margin, self.from_logits, self.reduction = gamma_pos, gamma_neg, margin, from_logits, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None, *, from_logits: bool | None = None) -> Tensor:
        """``from_logits`` overrides the module's setting for one call (e.g. the weak, pooled probabilities)."""
        return asymmetric_loss(
            input, target, gamma_pos=self.gamma_pos, gamma_neg=self.gamma_neg, margin=self.margin,
            from_logits=self.from_logits if from_logits is None else from_logits, mask=mask, reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return f"gamma_pos={self.gamma_pos}, gamma_neg={self.gamma_neg}, margin={self.margin}, from_logits={self.from_logits}"


class LogitAdjustedBCE(nn.Module):
    """Module form of :func:`logit_adjusted_bce`; ``prior`` (C,) is a buffer (follows ``.to(device)`` and checkpoints).

    The same offsets apply to frame-level logits and to clip-level (pooled) probabilities.
    """

    def __init__(self, prior: Tensor | Sequence[float], tau: float = 1.0, *, from_logits: bool = True, class_dim: int = 1, reduction: Reduction = "mean") -> None:
        super().__init__()
        prior_offsets(prior, tau)  # validate now, not at the first step
        self.tau, self.from_logits, self.class_dim, self.reduction = tau, from_logits, class_dim, reduction
        self.register_buffer("prior", torch.as_tensor(prior, dtype=torch.float32))

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None, *, from_logits: bool | None = None) -> Tensor:
        return logit_adjusted_bce(
            input, target, self.prior, tau=self.tau, from_logits=self.from_logits if from_logits is None else from_logits,
            class_dim=self.class_dim, mask=mask, reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return f"tau={self.tau}, prior={[round(p, 4) for p in self.prior.tolist()]}, from_logits={self.from_logits}"


class OnsetOffsetWeightedBCE(nn.Module):
    """Module form of :func:`onset_offset_weighted_bce`: frame-level (B, C, T) inputs are boundary-weighted,
    clip-level (B, C) inputs get plain BCE."""

    def __init__(self, boundary_weight: float = 1.0, boundary_frames: int = 3, *, from_logits: bool = True, frame_dim: int = -1, reduction: Reduction = "mean") -> None:
        super().__init__()
        boundary_weights(torch.zeros(1, 1, 2), boundary_weight=boundary_weight, boundary_frames=boundary_frames)  # validate now
        self.boundary_weight, self.boundary_frames = boundary_weight, int(boundary_frames)
        self.from_logits, self.frame_dim, self.reduction = from_logits, frame_dim, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None, *, from_logits: bool | None = None) -> Tensor:
        return onset_offset_weighted_bce(
            input, target, boundary_weight=self.boundary_weight, boundary_frames=self.boundary_frames,
            from_logits=self.from_logits if from_logits is None else from_logits, frame_dim=self.frame_dim, mask=mask, reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return f"boundary_weight={self.boundary_weight}, boundary_frames={self.boundary_frames}, from_logits={self.from_logits}"
