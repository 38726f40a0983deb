"""Every setting that decides the evaluation's numbers: thresholds, collars, PSDS scenarios."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tbfl.constants import DESED_CLASSES, FRAME_HOP_S
from tbfl.evaluation.postprocessing.sebb import SebbParams

#: The DCASE 2021 baseline's 50 operating points 0.01, 0.03, ..., 0.99.
DEFAULT_THRESHOLDS = np.round(np.linspace(0.01, 0.99, 50), 2)
#: Median filter lengths (s) of the post-processing independent PSDS by default: none to 2 s (tbfl's choice).
DEFAULT_PIPSDS_FILTERS_S = (0.0, 0.2, 0.45, 0.75, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class PsdsSettings:
    """One PSDS scenario (Bilen et al. 2020); eFPR is per hour."""

    dtc: float
    gtc: float
    cttc: float | None
    alpha_ct: float
    alpha_st: float
    max_efpr: float = 100.0

    def __post_init__(self) -> None:
        for name in ("dtc", "gtc", "cttc", "alpha_ct"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"PSDS {name} must be in [0, 1], got {value}")
        if self.cttc is not None and self.cttc == 0:
            raise ValueError("PSDS cttc must be > 0 (a cross-trigger needs some overlap; sed_scores_eval's cttc 0 "
                             "also counts relevant detections); leave cross-triggers out with alpha_ct = 0")
        if self.alpha_ct > 0 and self.cttc is None:
            raise ValueError("PSDS alpha_ct > 0 needs a cttc (cross-trigger tolerance criterion)")
        if self.alpha_st < 0 or self.max_efpr <= 0:
            raise ValueError(f"PSDS needs alpha_st >= 0 and max_efpr > 0, got {self.alpha_st} and {self.max_efpr}")


PSDS1 = PsdsSettings(dtc=0.7, gtc=0.7, cttc=None, alpha_ct=0.0, alpha_st=1.0)
PSDS2 = PsdsSettings(dtc=0.1, gtc=0.1, cttc=0.3, alpha_ct=0.5, alpha_st=1.0)


@dataclass(frozen=True)
class EvaluationSettings:
    """Everything that decides the numbers; stored with every result."""

    classes: tuple[str, ...] = DESED_CLASSES
    frame_hop_s: float = FRAME_HOP_S
    median_filter_s: float = 0.45
    median_filter_frames: int = 7
    median_filter_frames_per_class: tuple[int, ...] | None = None
    #: Per class, SEBB post-processing after the median filter (None: frame thresholding).
    sebb: tuple[SebbParams, ...] | None = None
    #: Per class, tuned decision thresholds for ``EvaluationResult.event_f1_tuned_thresholds``.
    per_class_thresholds: tuple[float, ...] | None = None
    thresholds: tuple[float, ...] = tuple(DEFAULT_THRESHOLDS.tolist())
    f1_threshold: float = 0.5
    onset_collar_s: float = 0.2
    offset_collar_s: float = 0.2
    offset_collar_rate: float = 0.2
    intersection_dtc: float = 0.5
    intersection_gtc: float = 0.5
    intersection_cttc: float = 0.3
    psds1: PsdsSettings = PSDS1
    psds2: PsdsSettings = PSDS2
    time_decimals: int = 6
    bootstrap: int = 0
    bootstrap_seed: int = 0
    #: Segment length of the segment-based metrics (None: not computed).
    segment_length_s: float | None = None
    #: Largest FPR of the segment- and clip-based AUROC (None: the full area).
    auroc_max_fpr: float | None = None
    #: Median filter lengths (s) whose class ROCs the post-processing independent PSDS merges (None: not computed).
    pipsds_filters_s: tuple[float, ...] | None = None
    #: Also bootstrap intervals of piPSDS: one resampled PSDS pass per filter length (needs both of the above).
    pipsds_intervals: bool = False

    def __post_init__(self) -> None:
        if self.segment_length_s is not None and not self.segment_length_s > 0:
            raise ValueError(f"the segment length must be > 0 seconds, got {self.segment_length_s}")
        if self.auroc_max_fpr is not None and not 0 < self.auroc_max_fpr <= 1:
            raise ValueError(f"the AUROC's max_fpr must be in (0, 1], got {self.auroc_max_fpr}")
        if self.pipsds_filters_s is not None and (not self.pipsds_filters_s or min(self.pipsds_filters_s) < 0):
            raise ValueError(f"piPSDS needs one or more median filter lengths >= 0 s, got {list(self.pipsds_filters_s)}")
        if self.pipsds_intervals and (self.pipsds_filters_s is None or not self.bootstrap):
            raise ValueError("piPSDS intervals need piPSDS filter lengths and a bootstrap (bootstrap >= 2)")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "classes": list(self.classes), "thresholds": list(self.thresholds),
                "sebb": None if self.sebb is None else [p.to_dict() for p in self.sebb]}
