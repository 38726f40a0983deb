"""The one loss factory: the recipe's loss settings and the dataset statistics -> an ``nn.Module``.

Training, tests and docs make every classification loss here: ``class_weights`` is the only place
the recipe turns V_c and r_c into w_c, and ``make_loss`` the only place a loss name becomes a module
(the weights travel in the checkpoint's hyper-parameters and live in the module's ``weight`` buffer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from tbfl.losses import BinaryCrossEntropy, ClassBalancedFocalLoss, FocalLoss, TimeBalancedFocalLoss, WeightedFocalLoss
from tbfl.weights import class_balanced_weights, time_balanced_weights

if TYPE_CHECKING:
    from tbfl.data.stats import DatasetStats

#: Loss names of the recipe (``loss.name``); cbfl and tbfl are weighted by class.
LOSSES = ("bce", "focal", "cbfl", "tbfl")
WEIGHTED_LOSSES = ("cbfl", "tbfl")


@dataclass
class LossConfig:
    """The recipe's ``loss`` section (validated by :func:`tbfl.training.config.loss_from_dict`)."""

    name: str = "bce"  # bce | focal | cbfl | tbfl
    gamma: float = 2.0
    alpha: float | None = None  # focal only
    k: float = 1000.0  # tbfl: ratio-to-samples factor ('inf' allowed)
    beta: float = 0.999  # cbfl: Cui et al.'s beta, with the class volumes V_c as counts
    uniform_weights: bool = False  # tbfl with w_c = 1 (the paper's "no weighted TBFL")


def class_weights(config: LossConfig, stats: "DatasetStats") -> np.ndarray | None:
    """(C,) class weights in the order of ``stats.classes``: tbfl w_c(V_c, r_c, k) (eq. 4; all 1 with
    ``uniform_weights``), cbfl Cui et al.'s weights of V_c with ``beta``; None for bce and focal."""
    if config.name == "tbfl":
        if config.uniform_weights:
            return np.ones(len(stats.classes))
        return time_balanced_weights(stats.volumes, stats.frame_ratios, config.k, classes=stats.classes)
    if config.name == "cbfl":
        return class_balanced_weights(stats.volumes, config.beta, classes=stats.classes)
    return None


def make_loss(config: LossConfig, weights: Sequence[float] | None = None) -> WeightedFocalLoss:
    """The classification loss named by ``config.name``, holding ``weights`` (C,) as its ``weight`` buffer.

    ``weights`` comes from :func:`class_weights` (or a checkpoint's hyper-parameters); cbfl and tbfl need it.
    Inputs of the module: logits or probabilities (batch, C, frames) or (batch, C), targets of the same shape.
    """
    if config.name == "bce":
        return BinaryCrossEntropy()
    if config.name == "focal":
        return FocalLoss(config.gamma, config.alpha)
    if config.name not in WEIGHTED_LOSSES:
        raise ValueError(f"loss.name must be one of {LOSSES}, got {config.name!r}")
    if weights is None:
        raise ValueError(f"loss {config.name!r} needs class weights (see tbfl.training.loss.class_weights)")
    if config.name == "tbfl":
        return TimeBalancedFocalLoss(weights, gamma=config.gamma)
    return ClassBalancedFocalLoss(weight=weights, gamma=config.gamma)  # weights already made from V_c and beta
