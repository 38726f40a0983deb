"""Mean-teacher schedules of the DCASE2021 baseline: ramp-up, EMA, mixup."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def exp_rampup(step: int | float, rampup_steps: int | float) -> float:
    """exp(-5 (1 - t/T)^2) for t < T, then 1 (Laine & Aila's ramp-up, used for consistency and lr)."""
    if rampup_steps <= 0 or step >= rampup_steps:
        return 1.0
    phase = 1.0 - max(step, 0) / rampup_steps
    return math.exp(-5.0 * phase * phase)


def ema_decay(step: int, max_decay: float = 0.999) -> float:
    """The baseline's teacher decay: min(1 - 1/(step + 1), max_decay)."""
    return min(1.0 - 1.0 / (step + 1), max_decay)


@torch.no_grad()
def update_ema(teacher: nn.Module, student: nn.Module, decay: float) -> None:
    """teacher <- decay * teacher + (1 - decay) * student, on parameters only.

    As in the baseline, BatchNorm running statistics are not averaged: the
    teacher keeps its own, from its forward passes in training mode.
    """
    for teacher_param, student_param in zip(teacher.parameters(), student.parameters()):
        teacher_param.mul_(decay).add_(student_param.detach(), alpha=1.0 - decay)


def mixup(features_db: Tensor, targets: Tensor, generator: torch.Generator, beta: float = 0.2, amin: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Mix each clip with a random other clip of the same sub-batch (soft labels), as the baseline does.

    The baseline mixes linear mel magnitudes before the log; the cache holds
    clamped dB, so the mix is done on 10**(dB/20) and taken back to dB.
    Args:
        features_db: (B, M, F) log-mel in dB; targets: (B, ...) in [0, 1].
    Returns:
        mixed dB features and targets, lam * a + (1 - lam) * b with one lam ~ Beta(beta, beta) per sub-batch.
    """
    mixed_db, mixed_targets, _ = mixup_masked(features_db, targets, None, generator, beta, amin)
    return mixed_db, mixed_targets


def mixup_masked(
    features_db: Tensor, targets: Tensor, class_mask: Tensor | None, generator: torch.Generator, beta: float = 0.2, amin: float = 1e-5
) -> tuple[Tensor, Tensor, Tensor | None]:
    """:func:`mixup` that also mixes (B, C) class masks: a mixed clip keeps a class only where both clips' sets annotate it
    (mask a * mask b). The same draws as :func:`mixup`."""
    if features_db.shape[0] < 2:
        return features_db, targets, class_mask
    lam = _beta_sample(beta, generator)
    permutation = torch.randperm(features_db.shape[0], generator=generator).to(features_db.device)
    magnitude = torch.pow(10.0, features_db / 20.0)
    mixed = lam * magnitude + (1.0 - lam) * magnitude[permutation]
    mixed_db = 20.0 * torch.log10(mixed.clamp(min=amin))
    mixed_targets = (lam * targets + (1.0 - lam) * targets[permutation]).clamp(0.0, 1.0)
    mixed_mask = None if class_mask is None else class_mask * class_mask[permutation]
    return mixed_db, mixed_targets, mixed_mask


def _beta_sample(beta: float, generator: torch.Generator) -> float:
    """Beta(beta, beta) from two Gamma draws made with ``generator`` (reproducible)."""
    gamma_a = torch._standard_gamma(torch.tensor([beta]), generator=generator)
    gamma_b = torch._standard_gamma(torch.tensor([beta]), generator=generator)
    return float(gamma_a / (gamma_a + gamma_b))
