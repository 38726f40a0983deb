"""Forward+backward time of each loss on a (48, 10, 156) batch, as a ratio to BCE.

The reference is ``torch.nn.functional.binary_cross_entropy_with_logits``,
measured in the same process. Run: ``.venv/bin/python benchmarks/bench_losses.py``.
"""

from __future__ import annotations

import timeit

import torch
import torch.nn.functional as F

from tbfl.losses import (
    asymmetric_loss,
    binary_cross_entropy,
    class_balanced_focal_loss,
    focal_loss,
    logit_adjusted_bce,
    onset_offset_weighted_bce,
    time_balanced_focal_loss,
)
from tbfl.weights import time_balanced_weights

SHAPE = (48, 10, 156)
VOLUMES = [190, 98, 88, 109, 136, 56, 64, 68, 128, 72]
RATIOS = [0.0368, 0.0526, 0.0322, 0.0388, 0.0334, 0.1165, 0.1551, 0.1002, 0.3130, 0.1212]
PRIORS = [0.01, 0.02, 0.01, 0.02, 0.01, 0.05, 0.08, 0.05, 0.15, 0.06]  # per-class positive-frame rates, DESED-like


def time_forward_backward(loss_fn, logits: torch.Tensor, target: torch.Tensor, repeats: int) -> float:
    """Best-of-5 mean seconds per forward+backward."""

    def step() -> None:
        x = logits.detach().requires_grad_(True)
        loss_fn(x, target).backward()

    step()  # warm-up
    return min(timeit.repeat(step, number=repeats, repeat=5)) / repeats


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    logits = torch.randn(SHAPE) * 3
    target = (torch.rand(SHAPE) > 0.8).float()
    target = target.cummax(dim=-1).values * (torch.arange(SHAPE[-1]) < torch.randint(40, SHAPE[-1], SHAPE[:2] + (1,))).float()  # one event per row, as OWBCE sees them
    weight = torch.as_tensor(time_balanced_weights(VOLUMES, RATIOS, 1000), dtype=torch.float32)
    candidates = {
        "torch BCE-with-logits (reference)": lambda x, y: F.binary_cross_entropy_with_logits(x, y),
        "tbfl binary_cross_entropy": lambda x, y: binary_cross_entropy(x, y),
        "tbfl focal_loss (gamma=2)": lambda x, y: focal_loss(x, y, gamma=2.0),
        "tbfl class_balanced_focal_loss": lambda x, y: class_balanced_focal_loss(x, y, counts=VOLUMES, beta=0.999),
        "tbfl time_balanced_focal_loss (k=1000, gamma=2)": lambda x, y: time_balanced_focal_loss(x, y, weight, gamma=2.0),
        "tbfl time_balanced_focal_loss (gamma=0.5)": lambda x, y: time_balanced_focal_loss(x, y, weight, gamma=0.5),
        "tbfl asymmetric_loss (0, 4, m=0.05)": lambda x, y: asymmetric_loss(x, y),
        "tbfl logit_adjusted_bce (tau=1)": lambda x, y: logit_adjusted_bce(x, y, PRIORS),
        "tbfl onset_offset_weighted_bce (1, 3 frames)": lambda x, y: onset_offset_weighted_bce(x, y),
    }
    times = {name: time_forward_backward(fn, logits, target, repeats=50) for name, fn in candidates.items()}
    reference = times["torch BCE-with-logits (reference)"]
    print(f"forward+backward on {SHAPE}, 1 thread, torch {torch.__version__}")
    print(f"{'loss':<50} {'ms':>8} {'x BCE':>7}")
    for name, seconds in times.items():
        print(f"{name:<50} {seconds * 1e3:8.3f} {seconds / reference:7.2f}")


if __name__ == "__main__":
    main()
