"""The one loss factory: the recipe's loss settings and the dataset statistics -> an ``nn.Module``.

Training, tests and docs make every classification loss here: ``class_weights`` is the only place
the recipe turns V_c and r_c into w_c, and ``make_loss`` the only place a loss name becomes a module
(the weights travel in the checkpoint's hyper-parameters and live in the module's ``weight`` buffer).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from torch import nn

from tbfl.losses import (
    AsymmetricLoss,
    BinaryCrossEntropy,
    ClassBalancedFocalLoss,
    FocalLoss,
    LogitAdjustedBCE,
    OnsetOffsetWeightedBCE,
    TimeBalancedFocalLoss,
)
from tbfl.weights import auto_k, class_balanced_weights, time_balanced_weights

if TYPE_CHECKING:
    from tbfl.data.stats import DatasetStats

#: Loss names of the recipe (``loss.name``); cbfl and tbfl are weighted by class, labce needs per-class priors.
LOSSES = ("bce", "focal", "cbfl", "tbfl", "asl", "labce", "owbce")
WEIGHTED_LOSSES = ("cbfl", "tbfl", "labce")
#: labce's priors are clipped to [PRIOR_FLOOR, 1 - PRIOR_FLOOR] (a class absent from the strong set: offset -9.2 at tau 1).
PRIOR_FLOOR = 1e-4


@dataclass
class LossConfig:
    """The recipe's ``loss`` section (validated by :func:`tbfl.training.config.loss_from_dict`)."""

    name: str = "bce"  # bce | focal | cbfl | tbfl | asl | labce | owbce (docs/losses-competing.md)
    gamma: float = 2.0
    alpha: float | None = None  # focal only
    k: float | str = 1000.0  # tbfl: ratio-to-samples factor ('inf' allowed), or 'auto' (tbfl.weights.auto_k)
    k_auto_target: float = 1.0  # k: auto picks k so that a typical class's samples per recording reach this (1: Table 1 at k = 1000)
    k_auto_rule: str = "median"  # k: auto's summary over classes: median | geomean (tbfl.weights.auto_k, docs/k-auto.md)
    beta: float = 0.999  # cbfl: Cui et al.'s beta, with the class volumes V_c as counts
    uniform_weights: bool = False  # tbfl with w_c = 1 (the paper's "no weighted TBFL")
    gamma_pos: float = 0.0  # asl: focusing of the positive term
    gamma_neg: float = 4.0  # asl: focusing of the negative term
    margin: float = 0.05  # asl: probability margin m of the negatives
    tau: float = 1.0  # labce: scale of the prior offsets tau * logit(prior_c)
    boundary_weight: float = 1.0  # owbce: alpha, extra weight at an onset or offset
    boundary_frames: int = 3  # owbce: sigma, frames weighted on each side of a boundary


def resolve_k(config: LossConfig, stats: "DatasetStats") -> float:
    """The k the weights use: ``config.k``, or for ``k: auto`` :func:`tbfl.weights.auto_k` of the dataset's
    V_c and r_c with ``config.k_auto_target`` and ``config.k_auto_rule``."""
    if config.k == "auto":
        return auto_k(stats.volumes, stats.frame_ratios, config.k_auto_target, rule=config.k_auto_rule, classes=stats.classes)
    return float(config.k)


def class_weights(config: LossConfig, stats: "DatasetStats") -> np.ndarray | None:
    """(C,) per-class vector of the loss in the order of ``stats.classes``: tbfl w_c(V_c, r_c, k) (eq. 4; all 1
    with ``uniform_weights``; k from :func:`resolve_k`), cbfl Cui et al.'s weights of V_c with ``beta``, labce the positive-frame priors
    ``stats.frame_rates`` clipped to [PRIOR_FLOOR, 1 - PRIOR_FLOOR] (not weights: the loss offsets the logits by
    tau * logit(prior_c)); None otherwise."""
    if config.name == "labce":
        rates = stats.frame_rates
        if rates is None or np.isnan(rates).any():
            raise ValueError("loss 'labce' needs the per-class positive-frame rates of the strong set (DatasetStats.frame_rates)")
        outside = [c for c, r in zip(stats.classes, rates) if not PRIOR_FLOOR <= r <= 1 - PRIOR_FLOOR]
        if outside:
            warnings.warn(
                f"loss 'labce': class(es) {outside} are active in (almost) no frame or every frame of the strong set; "
                f"their prior is clipped to [{PRIOR_FLOOR}, {1 - PRIOR_FLOOR}]", UserWarning, stacklevel=2,
            )
        return np.clip(np.asarray(rates, dtype=np.float64), PRIOR_FLOOR, 1 - PRIOR_FLOOR)
    if config.name == "tbfl":
        if config.uniform_weights:
            return np.ones(len(stats.classes))
        return time_balanced_weights(stats.volumes, stats.frame_ratios, resolve_k(config, stats), classes=stats.classes)
    if config.name == "cbfl":
        return class_balanced_weights(stats.volumes, config.beta, classes=stats.classes)
    return None


def make_loss(config: LossConfig, weights: Sequence[float] | None = None) -> nn.Module:
    """The classification loss named by ``config.name``, holding ``weights`` (C,) as its ``weight`` buffer
    (labce: as its ``prior`` buffer).

    ``weights`` comes from :func:`class_weights` (or a checkpoint's hyper-parameters); cbfl, tbfl and labce need it.
    Inputs of the module: logits or probabilities (batch, C, frames) or (batch, C), targets of the same shape;
    ``module(input, target, from_logits=False)`` for probabilities.
    """
    if config.name == "bce":
        return BinaryCrossEntropy()
    if config.name == "focal":
        return FocalLoss(config.gamma, config.alpha)
    if config.name == "asl":
        return AsymmetricLoss(config.gamma_pos, config.gamma_neg, config.margin)
    if config.name == "owbce":
        return OnsetOffsetWeightedBCE(config.boundary_weight, config.boundary_frames)
    if config.name not in WEIGHTED_LOSSES:
        raise ValueError(f"loss.name must be one of {LOSSES}, got {config.name!r}")
    if weights is None:
        raise ValueError(f"loss {config.name!r} needs class weights (see tbfl.training.loss.class_weights)")
    if config.name == "tbfl":
        return TimeBalancedFocalLoss(weights, gamma=config.gamma)
    if config.name == "labce":
        return LogitAdjustedBCE(weights, config.tau)
    return ClassBalancedFocalLoss(weight=weights, gamma=config.gamma)  # weights already made from V_c and beta
