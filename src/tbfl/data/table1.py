"""The paper's Table 1 (DESED 2021): V_c, r_c, average source length and event duration per class."""

from __future__ import annotations

from dataclasses import dataclass

from tbfl.constants import DESED_CLASSES


@dataclass(frozen=True)
class ClassStatistics:
    """Per-class data volume V_c and frame ratio r_c, in class order."""

    classes: tuple[str, ...]
    volumes: tuple[float, ...]
    frame_ratios: tuple[float, ...]


#: Table 1 of Park & Elhilali (DESED 2021): V_c of the soundbank and r_c of the synthetic strong set.
PAPER_TABLE1 = ClassStatistics(
    classes=DESED_CLASSES,
    volumes=(190, 98, 88, 109, 136, 56, 64, 68, 128, 72),
    frame_ratios=(0.0368, 0.0526, 0.0322, 0.0388, 0.0334, 0.1165, 0.1551, 0.1002, 0.3130, 0.1212),
)
#: Table 1's average source length (s) and average event duration (s), same order.
PAPER_AVG_SOURCE_LENGTH_S = (1.58, 7.40, 1.22, 0.55, 1.01, 22.04, 21.09, 11.28, 1.26, 27.34)
PAPER_AVG_EVENT_DURATION_S = (1.45, 4.14, 1.35, 0.66, 1.13, 8.67, 9.38, 6.66, 1.54, 9.46)
