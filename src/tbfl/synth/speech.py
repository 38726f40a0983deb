"""Speech sources: espeak-ng with random voices when it is installed, else a procedural formant voice.

``speech_backend()`` decides once (and warns once when it falls back);
``speech(rng, n_samples, backend)`` makes one utterance of exactly ``n_samples``
at 16 kHz, starting with voice at sample 0.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings

import numpy as np
import soundfile as sf
from scipy import signal

from tbfl.synth import dsp
from tbfl.synth.dsp import SR

ESPEAK = "espeak-ng"

#: Languages (accents) and voice variants drawn for espeak-ng; all ship with Debian's espeak-ng-data.
ESPEAK_LANGUAGES = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "fr", "de", "es", "it", "nl", "pt", "pl", "sv")
ESPEAK_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "klatt4", "croak", "Andy", "Annie", "belinda", "grandma", "grandpa", "linda", "steph",
)  # fmt: skip

WORDS = (
    "the a an and but or so if when then now here there this that what who where why how yes no not "
    "please thank you okay well right just really maybe today tomorrow morning evening night later soon "
    "kitchen table chair window door cup plate glass water coffee tea bread dinner lunch breakfast sugar "
    "milk fridge oven light room house garden car phone time minute hour week money friend mother father "
    "child dog cat news music radio book paper letter game idea question answer problem reason story "
    "go come see look make take give get put keep let think know want need like love try ask tell say "
    "call wait help start stop open close turn find leave bring hold sit stand walk run eat drink cook "
    "wash clean work play read write listen talk hear feel remember forget buy pay send move finish "
    "good bad big small hot cold new old long short early late fast slow quiet loud happy ready sure "
    "nice great little warm clean dirty full empty next last first second only very too also again"
).split()

FALLBACK_WARNING = (
    "espeak-ng was not found on PATH: Speech sources use a procedural formant voice instead of synthesised "
    "speech. Install it (Debian/Ubuntu: `apt-get install espeak-ng`, or `make system-deps`) for real voices."
)


class SpeechFallbackWarning(UserWarning):
    """espeak-ng is missing; Speech uses the procedural voice."""


def speech_backend(warn: bool = True) -> str:
    """``"espeak-ng"`` if the binary is on PATH, else ``"procedural"`` (with one warning if ``warn``)."""
    if shutil.which(ESPEAK):
        return "espeak-ng"
    if warn:
        warnings.warn(FALLBACK_WARNING, SpeechFallbackWarning, stacklevel=2)
    return "procedural"


def speech(rng: np.random.Generator, n_samples: int, backend: str) -> tuple[np.ndarray, str]:
    """One utterance of ``n_samples`` at 16 kHz and a description of how it was made."""
    if backend == "espeak-ng":
        return _espeak_utterance(rng, n_samples)
    if backend == "procedural":
        return procedural_voice(rng, n_samples), "procedural formant voice"
    raise ValueError(f"unknown speech backend {backend!r}; expected 'espeak-ng' or 'procedural'")


def _espeak_utterance(rng: np.random.Generator, n_samples: int) -> tuple[np.ndarray, str]:
    voice = f"{rng.choice(ESPEAK_LANGUAGES)}+{rng.choice(ESPEAK_VARIANTS)}"
    words_per_min = int(rng.uniform(130, 230))
    pitch, word_gap = int(rng.uniform(15, 85)), int(rng.integers(0, 3))
    n_words = int(np.ceil(n_samples / SR * words_per_min / 60)) + 2
    words = [str(word) + str(rng.choice(["", "", "", "", ",", ".", "?"])) for word in rng.choice(WORDS, n_words)]
    command = [ESPEAK, "-v", voice, "-s", str(words_per_min), "-p", str(pitch), "-g", str(word_gap), "--stdout", " ".join(words)]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        raise RuntimeError(f"{ESPEAK} failed for voice {voice}: {result.stderr.decode(errors='replace').strip()}")
    audio, rate_hz = sf.read(io.BytesIO(result.stdout), dtype="float64")
    audio = _trim_silence(signal.resample_poly(audio, SR, rate_hz))
    if len(audio) < n_samples:  # a slow voice can fall short: pad with a continuation
        more, _ = _espeak_utterance(rng, n_samples - len(audio))
        audio = np.concatenate([audio, np.zeros(int(0.1 * SR)), more])
    return audio[:n_samples], f"espeak-ng voice {voice} {words_per_min} wpm pitch {pitch}"


def _trim_silence(x: np.ndarray, range_db: float = 40.0) -> np.ndarray:
    """Drop leading and trailing samples quieter than ``range_db`` below the peak."""
    loud = np.flatnonzero(np.abs(x) > np.max(np.abs(x)) * 10 ** (-range_db / 20)) if len(x) else []
    return x[loud[0] : loud[-1] + 1] if len(loud) else x


# Vowel formants (F1, F2, F3) in Hz for an adult male voice.
VOWELS = np.array([[730, 1090, 2440], [530, 1840, 2480], [270, 2290, 3010], [570, 840, 2410], [300, 870, 2240], [660, 1720, 2410], [490, 1350, 1690]])
# Consonants as noise bands (low Hz, high Hz, relative level): s, sh, f, h, plosive burst.
CONSONANTS = ((4000, 7800, 1.0), (2000, 5000, 0.9), (1000, 7800, 0.4), (500, 3500, 0.3), (1500, 6000, 1.2))


def procedural_voice(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Speech-like babble: syllables (consonant noise + formant vowel) with a falling pitch contour.

    The speaker (pitch 85-250 Hz, vocal-tract scale, rate 3-6 syllables/s) is drawn from ``rng``.
    """
    f0_base = rng.uniform(85, 250)
    tract = rng.uniform(0.85, 1.25) * (1.0 if f0_base < 150 else 1.15)
    syllable_s = 1 / rng.uniform(3, 6)
    out = np.zeros(n_samples)
    t_end = n_samples / SR
    start_s = 0.0
    while start_s < t_end - 0.05:
        length = int(min(syllable_s * rng.uniform(0.6, 1.4), t_end - start_s) * SR)
        start = int(start_s * SR)
        declination = 1 - 0.25 * start_s / max(t_end, 1e-3)
        out[start : start + length] += _syllable(rng, length, f0_base * declination, tract)
        start_s += length / SR + (rng.uniform(0.1, 0.3) if rng.random() < 0.25 else rng.uniform(0.0, 0.04))
    return out


def _syllable(rng: np.random.Generator, n_samples: int, f0_hz: float, tract: float) -> np.ndarray:
    n_consonant = int(n_samples * rng.uniform(0.1, 0.35)) if rng.random() < 0.7 else 0
    n_vowel = n_samples - n_consonant
    out = np.zeros(n_samples)
    if n_consonant > 8:
        low_hz, high_hz, level = CONSONANTS[rng.integers(len(CONSONANTS))]
        noise = dsp.bandpass(dsp.white(rng, n_consonant), low_hz, high_hz)
        out[:n_consonant] = level * noise / (np.std(noise) + 1e-12) * np.hanning(n_consonant) * 0.4
    if n_vowel > 8:
        start, end = VOWELS[rng.integers(len(VOWELS))] * tract, VOWELS[rng.integers(len(VOWELS))] * tract
        glide = np.linspace(0, 1, n_vowel)[:, None]
        formants = start + (end - start) * glide
        f0 = f0_hz * (1 + rng.uniform(-0.1, 0.15) * np.sin(np.pi * glide[:, 0]))
        vowel = dsp.voiced(f0, [formants[:, 0], formants[:, 1], formants[:, 2]], [90, 110, 170], rng, -9.0)
        vowel += 0.05 * dsp.highpass(dsp.white(rng, n_vowel), 3000) * np.std(vowel)
        out[n_consonant:] = vowel / (np.std(vowel) + 1e-12) * np.hanning(n_vowel) ** 0.5
    return out
