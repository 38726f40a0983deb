"""tbfl: sound event detection with the Time-Balanced Focal Loss (Park & Elhilali).

Public API (imported lazily, so ``tbfl --help`` does not load torch):
losses ``binary_cross_entropy``, ``focal_loss``, ``class_balanced_focal_loss``,
``time_balanced_focal_loss`` and their modules; the field's competing losses ``asymmetric_loss``,
``logit_adjusted_bce``, ``onset_offset_weighted_bce`` and their modules; weights ``effective_number``,
``class_balanced_weights``, ``time_balanced_weights``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "binary_cross_entropy": "tbfl.losses",
    "focal_loss": "tbfl.losses",
    "class_balanced_focal_loss": "tbfl.losses",
    "time_balanced_focal_loss": "tbfl.losses",
    "BinaryCrossEntropy": "tbfl.losses",
    "FocalLoss": "tbfl.losses",
    "ClassBalancedFocalLoss": "tbfl.losses",
    "TimeBalancedFocalLoss": "tbfl.losses",
    "WeightedFocalLoss": "tbfl.losses",
    "weighted_focal_loss": "tbfl.losses",
    "asymmetric_loss": "tbfl.losses",
    "logit_adjusted_bce": "tbfl.losses",
    "onset_offset_weighted_bce": "tbfl.losses",
    "AsymmetricLoss": "tbfl.losses",
    "LogitAdjustedBCE": "tbfl.losses",
    "OnsetOffsetWeightedBCE": "tbfl.losses",
    "effective_number": "tbfl.weights",
    "class_balanced_weights": "tbfl.weights",
    "time_balanced_weights": "tbfl.weights",
    "DESED_CLASSES": "tbfl.constants",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tbfl' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
