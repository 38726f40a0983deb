"""Shared fixtures of the data-layer tests: the real DESED label files and a tiny DESED-layout dataset."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from tbfl.constants import DESED_CLASSES
from tbfl.data.layout import DesedLayout

#: The real DESED metadata (labels only, MIT licence), shipped with the tests; see its README.
DESED_METADATA = Path(__file__).parent / "desed-metadata"


@pytest.fixture
def desed_metadata() -> Path:
    return DESED_METADATA


def write_wav(path: Path, duration_s: float, sample_rate: int = 8000) -> Path:
    """A short noise file of ``duration_s`` seconds (an exact number of samples)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n_samples = int(round(duration_s * sample_rate))
    sf.write(path, np.random.default_rng(0).uniform(-0.1, 0.1, n_samples).astype(np.float32), sample_rate)
    return path


#: Hand-made strong training set of the tiny layout, with its Table 1 numbers computed by hand
#: (hop 0.064 s, 156 frames; onset frame = floor(t / hop), offset frame = ceil(t / hop)).
TINY_STRONG_TSV = (
    "filename\tonset\toffset\tevent_label\n"
    "clip1.wav\t0.000\t0.640\tDog\n"  # frames 0..9: 10
    "clip1.wav\t1.280\t1.920\tCat\n"  # frames 20..29: 10
    "clip2.wav\t0.100\t0.300\tDog\n"  # floor(1.5625)=1 .. ceil(4.6875)=5: 4
    "clip2.wav\t9.000\t10.000\tSpeech\n"  # floor(140.625)=140 .. min(ceil(156.25), 156)=156: 16
    "clip3.wav\t\t\t\n"
)
#: Dog 14, Cat 10, Speech 16 positive frames out of 40.
TINY_FRAME_RATIOS = {"Dog": 14 / 40, "Cat": 10 / 40, "Speech": 16 / 40}
TINY_EVENT_DURATIONS_S = {"Dog": (0.64 + 0.2) / 2, "Cat": 0.64, "Speech": 1.0}
TINY_N_EVENTS = {"Dog": 2, "Cat": 1, "Speech": 1}
#: Soundbank: Dog 1.0 + 2.0 (flac) s, Dog_nOn 0.5 s; Cat 1.5 s; every other class one 0.25 s file.
TINY_VOLUMES = {**{name: 1 for name in DESED_CLASSES}, "Dog": 3}
TINY_SOURCE_LENGTHS_S = {**{name: 0.25 for name in DESED_CLASSES}, "Dog": 3.5 / 3, "Cat": 1.5}


@pytest.fixture
def tiny_expected() -> SimpleNamespace:
    """The tiny layout's Table 1, computed by hand (see the comments above)."""
    return SimpleNamespace(
        frame_ratios=TINY_FRAME_RATIOS,
        event_durations_s=TINY_EVENT_DURATIONS_S,
        n_events=TINY_N_EVENTS,
        volumes=TINY_VOLUMES,
        source_lengths_s=TINY_SOURCE_LENGTHS_S,
        strong_tsv=TINY_STRONG_TSV,
    )


@pytest.fixture
def tiny_layout(tmp_path) -> DesedLayout:
    layout = DesedLayout(tmp_path / "dataset")
    foreground = layout.path("soundbank_foreground")
    for name in DESED_CLASSES:
        if name not in ("Dog", "Cat"):
            write_wav(foreground / name / f"{name.lower()}_1.wav", 0.25)
    write_wav(foreground / "Dog" / "dog_1.wav", 1.0)
    write_wav(foreground / "Dog" / "dog_2.flac", 2.0, sample_rate=16000)
    write_wav(foreground / "Dog_nOn" / "dog_3.wav", 0.5)
    write_wav(foreground / "Cat" / "cat_1.wav", 1.5)
    write_wav(foreground / "Speech" / "._speech_1.wav", 4.0)  # hidden (macOS resource file): not a source
    (foreground / "Speech" / "notes.txt").write_text("not audio")
    tsv = layout.path("synth_train_tsv")
    tsv.parent.mkdir(parents=True)
    tsv.write_text(TINY_STRONG_TSV)
    return layout
