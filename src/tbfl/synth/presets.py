"""Dataset sizes for ``tbfl synth``: ``tiny`` (tests), ``small``, ``medium``, ``study2`` (small with a 1,000-clip
validation set from 20 held-out sources per class) and ``desed`` (real DESED 2021 sizes); :class:`World` reshapes them.

The soundbank follows the paper's Table 1: V_c sources per class (scaled for
``small`` and ``medium``, exact for ``desed``) with Table 1's average source
length. On top of V_c, a held-out share of sources per class is made for the
stand-in "validation" set only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from tbfl.data.table1 import PAPER_AVG_EVENT_DURATION_S, PAPER_AVG_SOURCE_LENGTH_S, PAPER_TABLE1


@dataclass(frozen=True)
class Preset:
    """Clip counts per set and the soundbank's shape (class axis in DESED order)."""

    name: str
    n_synth_train: int
    n_weak: int
    n_unlabeled: int
    n_synth_val: int
    n_validation: int
    #: V_c: training foreground sources per class.
    sources_per_class: tuple[int, ...]
    #: Average training source length per class (s).
    mean_source_length_s: tuple[float, ...]
    #: Training background files per kind.
    backgrounds_per_kind: int
    #: Share of all sources of a class held out for the validation set (on top of V_c).
    heldout_fraction: float = 0.2
    #: Held-out foreground sources per class, when set: replaces ``heldout_fraction`` for foreground classes.
    heldout_per_class: int | None = None
    #: Background file lengths are drawn in this range (s); clips crop a random 10 s.
    background_length_s: tuple[float, float] = (12.0, 20.0)
    #: The frame shares r_c (sum 1) the soundscapes aim at; None: Table 1's.
    frame_ratio_targets: tuple[float, ...] | None = None
    #: The shares of events per class (sum 1) the soundscapes draw, whatever the lengths; replaces the r_c target.
    event_share_targets: tuple[float, ...] | None = None

    def frame_ratio_target(self) -> dict[str, float] | None:
        """Class -> the r_c its soundscapes aim at (DESED order), or None for Table 1's."""
        return None if self.frame_ratio_targets is None else dict(zip(PAPER_TABLE1.classes, self.frame_ratio_targets))

    def event_share_target(self) -> dict[str, float] | None:
        """Class -> its share of the events (DESED order), or None to aim at :meth:`frame_ratio_target` instead."""
        return None if self.event_share_targets is None else dict(zip(PAPER_TABLE1.classes, self.event_share_targets))

    def heldout_count(self, n_train: int) -> int:
        """Held-out sources for a class (or background kind) with ``n_train`` training ones (at least 1)."""
        return max(1, round(n_train * self.heldout_fraction / (1 - self.heldout_fraction)))

    def heldout_foreground_count(self, n_train: int) -> int:
        """Held-out sources of a foreground class with ``n_train`` training ones."""
        return self.heldout_per_class if self.heldout_per_class is not None else self.heldout_count(n_train)

    @property
    def n_clips(self) -> int:
        return self.n_synth_train + self.n_weak + self.n_unlabeled + self.n_synth_val + self.n_validation


def _scaled(factor: float) -> tuple[int, ...]:
    return tuple(max(1, round(v * factor)) for v in PAPER_TABLE1.volumes)


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        name="tiny",
        n_synth_train=16,
        n_weak=8,
        n_unlabeled=8,
        n_synth_val=6,
        n_validation=6,
        sources_per_class=(3,) * 10,
        mean_source_length_s=tuple(min(length, 6.0) for length in PAPER_AVG_SOURCE_LENGTH_S),
        backgrounds_per_kind=1,
        background_length_s=(10.5, 11.5),
    ),
    "small": Preset(
        name="small",
        n_synth_train=600,
        n_weak=300,
        n_unlabeled=600,
        n_synth_val=150,
        n_validation=300,
        sources_per_class=_scaled(0.25),
        mean_source_length_s=PAPER_AVG_SOURCE_LENGTH_S,
        backgrounds_per_kind=4,
    ),
    "medium": Preset(
        name="medium",
        n_synth_train=3000,
        n_weak=1500,
        n_unlabeled=3000,
        n_synth_val=750,
        n_validation=1500,
        sources_per_class=_scaled(0.5),
        mean_source_length_s=PAPER_AVG_SOURCE_LENGTH_S,
        backgrounds_per_kind=8,
    ),
    # Study 2's CPU world: small's training sets and Table 1 / 4 soundbank, with a validation set of 1,000 clips
    # mixed from 20 held-out sources per class (docs/synth-worlds.md).
    "study2": Preset(
        name="study2",
        n_synth_train=600,
        n_weak=300,
        n_unlabeled=600,
        n_synth_val=150,
        n_validation=1000,
        sources_per_class=_scaled(0.25),
        mean_source_length_s=PAPER_AVG_SOURCE_LENGTH_S,
        backgrounds_per_kind=4,
        heldout_per_class=20,
    ),
    "desed": Preset(
        name="desed",
        n_synth_train=10_000,
        n_weak=1_578,
        n_unlabeled=14_412,
        n_synth_val=2_500,
        n_validation=1_168,
        sources_per_class=tuple(int(v) for v in PAPER_TABLE1.volumes),
        mean_source_length_s=PAPER_AVG_SOURCE_LENGTH_S,
        backgrounds_per_kind=20,
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a ValueError lists the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown synth preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


@dataclass(frozen=True)
class World:
    """Knobs that reshape a preset's soundbank and validation set (``tbfl synth --volume-spread ...``).

    None keeps the preset's own value. Spreads act on logarithms around the geometric mean:
    x'_c ∝ exp(s * (log x_c - mean_c log x_c)), so s = 0 is flat (every class the same), s = 1 the paper's
    Table 1 pattern, s = 2 twice its spread in log units.

    Attributes:
        volume_spread: spread of V_c over Table 1's pattern; the total number of sources is kept
            (sum_c V_c = volume_scale * 1009, Table 1's total).
        duration_spread: spread of the mean source lengths over the preset's (Table 1's for small,
            medium, desed and study2); their geometric mean is kept, each then clipped to
            :data:`MEAN_SOURCE_LENGTH_RANGE_S`. Events are the sources, cropped to 70-100% of the 10 s clip
            when longer, so this sets the event-length imbalance (bounded by 0.3 s and the clip).
        volume_scale: V_c as a multiple of Table 1's (1 = the paper's V_c, 0.25 = small's); default: the
            preset's own, to two significant digits (0.25 for small and study2).
        heldout_per_class: held-out foreground sources per class for the validation set.
        n_validation: clips of the validation set.
        event_count_spread: spread of the classes' shares of events over Table 1's (r_c / mean event duration), whatever
            the lengths: with it, ``duration_spread`` moves the event lengths alone. Without it, ``duration_spread``
            spreads the target r_c with the lengths, which also spreads the event counts (docs/synth-worlds.md).
    """

    volume_spread: float | None = None
    duration_spread: float | None = None
    volume_scale: float | None = None
    heldout_per_class: int | None = None
    n_validation: int | None = None
    event_count_spread: float | None = None

    def __post_init__(self) -> None:
        for name, low, text in (("volume_spread", 0.0, ">= 0"), ("duration_spread", 0.0, ">= 0"), ("event_count_spread", 0.0, ">= 0")):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= low):
                raise ValueError(f"{name} must be a finite number {text}, got {value!r}")
        if self.volume_scale is not None and not (math.isfinite(self.volume_scale) and self.volume_scale > 0):
            raise ValueError(f"volume_scale must be a finite number > 0, got {self.volume_scale!r}")
        for name in ("heldout_per_class", "n_validation"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    def is_default(self) -> bool:
        """True when every knob keeps the preset's value."""
        return all(value is None for value in vars(self).values())

    def to_dict(self) -> dict:
        """The knobs that were set (for the dataset's manifest)."""
        return {name: value for name, value in vars(self).items() if value is not None}


#: Table 1's events per class, up to a factor: r_c / mean event duration (DESED's synthetic training set).
PAPER_EVENT_COUNT_SHAPE = tuple(r / d for r, d in zip(PAPER_TABLE1.frame_ratios, PAPER_AVG_EVENT_DURATION_S))

#: A world's mean source lengths are kept in this range (s): sources are at least 0.25 s long, and a source
#: longer than the 10 s clip only ever gives a 7-10 s event (longer files would only cost rendering time).
MEAN_SOURCE_LENGTH_RANGE_S = (0.3, 30.0)


def spread_log(values: tuple[float, ...] | np.ndarray, spread: float) -> np.ndarray:
    """exp(mean log x + spread * (log x_c - mean log x)): (C,) values with the same geometric mean,
    their log deviations multiplied by ``spread``."""
    logs = np.log(np.asarray(values, dtype=np.float64))
    return np.exp(logs.mean() + spread * (logs - logs.mean()))


def world_volumes(volume_spread: float, volume_scale: float) -> tuple[int, ...]:
    """V_c: Table 1's pattern at ``volume_spread``, totalling ``volume_scale`` * Table 1's total, rounded (>= 1)."""
    shape = spread_log(PAPER_TABLE1.volumes, volume_spread)
    total = volume_scale * sum(PAPER_TABLE1.volumes)
    volumes = np.round(shape * total / shape.sum(), 6)  # float noise off, so spread 1 rounds as the presets do (47.5 -> 48)
    return tuple(max(1, int(round(v))) for v in volumes)


def apply_world(preset: Preset, world: World) -> Preset:
    """``preset`` reshaped by ``world`` (the preset itself when every knob is None); same name."""
    if world.is_default():
        return preset
    changes: dict = {}
    if world.volume_spread is not None or world.volume_scale is not None:
        own_scale = float(f"{sum(preset.sources_per_class) / sum(PAPER_TABLE1.volumes):.2g}")  # small: 252 / 1009 -> 0.25
        scale = world.volume_scale if world.volume_scale is not None else own_scale
        changes["sources_per_class"] = world_volumes(1.0 if world.volume_spread is None else world.volume_spread, scale)
    if world.duration_spread is not None:
        lengths_s = np.clip(spread_log(preset.mean_source_length_s, world.duration_spread), *MEAN_SOURCE_LENGTH_RANGE_S)
        changes["mean_source_length_s"] = tuple(float(x) for x in np.round(lengths_s, 3))
        shares = spread_log(PAPER_TABLE1.frame_ratios, world.duration_spread)
        changes["frame_ratio_targets"] = tuple(float(x) for x in np.round(shares / shares.sum(), 6))
    if world.event_count_spread is not None:
        shares = spread_log(PAPER_EVENT_COUNT_SHAPE, world.event_count_spread)
        changes["event_share_targets"] = tuple(float(x) for x in np.round(shares / shares.sum(), 6))
        changes["frame_ratio_targets"] = None  # the events follow the shares, and r_c follows from the lengths
    if world.heldout_per_class is not None:
        changes["heldout_per_class"] = world.heldout_per_class
    if world.n_validation is not None:
        changes["n_validation"] = world.n_validation
    return replace(preset, **changes)
