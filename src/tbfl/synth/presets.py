"""Dataset sizes for ``tbfl synth``: ``tiny`` (tests), ``small``, ``medium`` and ``desed`` (real DESED 2021 sizes).

The soundbank follows the paper's Table 1: V_c sources per class (scaled for
``small`` and ``medium``, exact for ``desed``) with Table 1's average source
length. On top of V_c, a held-out share of sources per class is made for the
stand-in "validation" set only.
"""

from __future__ import annotations

from dataclasses import dataclass

from tbfl.data.table1 import PAPER_AVG_SOURCE_LENGTH_S, PAPER_TABLE1


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
    #: Background file lengths are drawn in this range (s); clips crop a random 10 s.
    background_length_s: tuple[float, float] = (12.0, 20.0)

    def heldout_count(self, n_train: int) -> int:
        """Held-out sources for a class (or background kind) with ``n_train`` training ones (at least 1)."""
        return max(1, round(n_train * self.heldout_fraction / (1 - self.heldout_fraction)))

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
