"""Procedural backgrounds: several kinds of room tone and domestic noise.

Each is ``fn(rng, n_samples) -> (n_samples,)`` at 16 kHz, full band (a faint
white floor reaches 8 kHz), at an arbitrary level.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from tbfl.synth import dsp
from tbfl.synth.speech import procedural_voice


def _floor(rng: np.random.Generator, n_samples: int, x: np.ndarray, level_db: float) -> np.ndarray:
    """``x`` plus a white floor ``level_db`` below it."""
    return x / (np.std(x) + 1e-12) + 10 ** (level_db / 20) * dsp.white(rng, n_samples)


def room_tone(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Pink noise through a few room resonances (50-400 Hz) with a random high-frequency roll-off."""
    x = dsp.coloured_noise(rng, n_samples, rng.uniform(0.8, 1.3))
    for _ in range(rng.integers(3, 7)):
        x = x + rng.uniform(0.5, 3.0) * dsp.resonator(x, rng.uniform(50, 400), rng.uniform(10, 40))
    x = dsp.spectral_tilt(x, rng.uniform(-3, 0))
    return _floor(rng, n_samples, x * (1 + 0.1 * dsp.smooth_random(rng, n_samples, 0.3)), rng.uniform(-45, -30))


def rumble(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Brown noise (distant traffic, building rumble) with slow swells."""
    x = dsp.highpass(dsp.coloured_noise(rng, n_samples, rng.uniform(1.6, 2.2)), 20)
    swell = 1 + rng.uniform(0.2, 0.6) * dsp.smooth_random(rng, n_samples, rng.uniform(0.1, 0.5))
    return _floor(rng, n_samples, x * swell, rng.uniform(-50, -35))


def mains_hum(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Mains hum (50 or 60 Hz, odd harmonics), a fridge compressor, over pink noise."""
    mains_hz = rng.choice([50.0, 60.0])
    amps = np.array([1.0 if k % 2 else rng.uniform(0.1, 0.4) for k in range(1, 16)]) * np.arange(1, 16) ** -rng.uniform(0.5, 1.5)
    hum = dsp.harmonics(mains_hz, n_samples, amps, rng)
    pink = dsp.coloured_noise(rng, n_samples, 1.0)
    x = hum / np.std(hum) * 10 ** (rng.uniform(-10, 5) / 20) + pink
    return _floor(rng, n_samples, x, rng.uniform(-45, -30))


def distant_babble(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Several distant procedural voices, reverberant and low-passed (a neighbour's room, a café)."""
    x = np.zeros(n_samples)
    for _ in range(rng.integers(2, 4)):  # each voice talks again, shifted in time, as another talker
        voice = procedural_voice(rng, n_samples)
        voice /= np.std(voice) + 1e-12
        for _ in range(rng.integers(2, 4)):
            x += np.roll(voice, rng.integers(n_samples)) * rng.uniform(0.3, 1.0)
    x = dsp.room_reverb(dsp.lowpass(x, rng.uniform(1500, 3500)), rng, rng.uniform(0.4, 1.0), 0.8)
    x = x + 0.5 * np.std(x) * dsp.coloured_noise(rng, n_samples, 1.0)
    return _floor(rng, n_samples, x, rng.uniform(-45, -30))


def ventilation(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """A fan: low-passed broadband airflow, a blade-pass tone with harmonics, slow modulation."""
    air = dsp.lowpass(dsp.coloured_noise(rng, n_samples, rng.uniform(0.3, 1.0)), rng.uniform(2000, 6000))
    blade_hz = rng.uniform(20, 120)
    blades = dsp.harmonics(blade_hz * (1 + 0.01 * dsp.smooth_random(rng, n_samples, 0.5)), n_samples, rng.uniform(0.2, 1.0, 6) / np.arange(1, 7), rng)
    x = air / np.std(air) + blades / np.std(blades) * 10 ** (rng.uniform(-20, -5) / 20)
    return _floor(rng, n_samples, x * (1 + 0.1 * dsp.smooth_random(rng, n_samples, 0.5)), rng.uniform(-45, -30))


#: Background generators by kind (folder name under the soundbank's background folder).
BACKGROUNDS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "room_tone": room_tone,
    "rumble": rumble,
    "mains_hum": mains_hum,
    "distant_babble": distant_babble,
    "ventilation": ventilation,
}
