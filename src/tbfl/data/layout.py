"""The DESED 2021 folder layout as one object.

Every path is relative to the dataset root and defaults to the folder names of
the DCASE2021 Task 4 baseline (16 kHz audio); override any of them by keyword
or from a config mapping (``DesedLayout.from_config``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class DesedLayout:
    """Where every DESED set lives under ``root``.

    Attributes are paths relative to ``root``; use :meth:`path` for absolute ones.
    """

    root: Path
    synth_train_audio: str = "audio/train/synthetic20_train/soundscapes_16k"
    synth_train_tsv: str = "metadata/train/synthetic20_train/soundscapes.tsv"
    weak_audio: str = "audio/train/weak_16k"
    weak_tsv: str = "metadata/train/weak.tsv"
    unlabeled_audio: str = "audio/train/unlabel_in_domain_16k"
    unlabeled_tsv: str = "metadata/train/unlabel_in_domain.tsv"
    synth_val_audio: str = "audio/validation/synthetic20_validation/soundscapes_16k"
    synth_val_tsv: str = "metadata/validation/synthetic20_validation/soundscapes.tsv"
    synth_val_durations_tsv: str = "metadata/validation/synthetic20_validation/durations.tsv"
    validation_audio: str = "audio/validation/validation_16k"
    validation_tsv: str = "metadata/validation/validation.tsv"
    validation_durations_tsv: str = "metadata/validation/validation_durations.tsv"
    soundbank_foreground: str = "soundbank/audio/train/foreground"
    soundbank_background: str = "soundbank/audio/train/background"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def path(self, name: str) -> Path:
        """Absolute path of the attribute ``name`` (e.g. ``"weak_tsv"``)."""
        if name == "root" or name not in self.relative_paths():
            raise KeyError(f"unknown DESED layout entry {name!r}; known: {sorted(self.relative_paths())}")
        return self.root / getattr(self, name)

    @classmethod
    def relative_paths(cls) -> dict[str, str]:
        """Default relative path of every entry, by name."""
        return {f.name: f.default for f in dataclasses.fields(cls) if f.name != "root"}

    @classmethod
    def from_config(cls, root: str | Path, overrides: Mapping[str, Any] | None = None) -> "DesedLayout":
        """Layout under ``root`` with entries replaced by ``overrides`` (unknown keys are an error)."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(cls.relative_paths()))
        if unknown:
            raise ValueError(f"unknown DESED layout keys {unknown}; known: {sorted(cls.relative_paths())}")
        return cls(root=Path(root), **{k: str(v) for k, v in overrides.items()})
