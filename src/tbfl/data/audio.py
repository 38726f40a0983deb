"""Audio loading: any soundfile-readable file to mono float32 at one sample rate, one length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from tbfl.constants import CLIP_DURATION_S, SAMPLE_RATE_HZ
from tbfl.io import visible_files

#: Suffixes of the audio files tbfl reads (soundbank sources, audio to detect), lower case.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


def audio_files(folder: str | Path, *, recursive: bool = False) -> list[Path]:
    """The audio files (:data:`AUDIO_SUFFIXES`) in ``folder``, sorted; hidden files skipped (:func:`tbfl.io.is_hidden`).

    The one listing of audio in a folder, used by ``check``, ``stats``, ``detect`` and the soundbank readers.
    """
    return visible_files(folder, AUDIO_SUFFIXES, recursive=recursive)


class AudioError(ValueError):
    """An audio file that cannot be used; the message names the file and the problem."""


def load_audio(
    path: str | Path,
    *,
    sample_rate: int = SAMPLE_RATE_HZ,
    duration_s: float | None = CLIP_DURATION_S,
) -> np.ndarray:
    """Read an audio file as mono float32 at ``sample_rate``.

    Channels are averaged; other rates are resampled with soxr (quality HQ).
    With ``duration_s``, the signal is cut or zero-padded to
    round(duration_s * sample_rate) samples; with None its length is kept.

    Returns:
        (n_samples,) float32.
    Raises:
        FileNotFoundError: no such file. AudioError: unreadable, empty or non-finite audio.
    """
    path = _existing(path)
    n_target = None if duration_s is None else int(round(duration_s * sample_rate))
    try:
        with sf.SoundFile(path) as audio_file:
            file_rate = audio_file.samplerate
            # Same rate: read only what is kept. Other rates: resample the whole file (no edge effects at the cut).
            n_read = n_target if n_target is not None and file_rate == sample_rate else -1
            signal = audio_file.read(frames=n_read, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError) as error:
        raise AudioError(f"{path}: cannot read audio ({error})") from None
    if signal.shape[0] == 0:
        raise AudioError(f"{path}: contains no samples")
    signal = signal.mean(axis=1, dtype=np.float32) if signal.shape[1] > 1 else signal[:, 0]
    if not np.isfinite(signal).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    if file_rate != sample_rate:
        signal = soxr.resample(signal, file_rate, sample_rate, quality="HQ").astype(np.float32, copy=False)
    if n_target is None:
        return signal
    if signal.shape[0] >= n_target:
        return np.ascontiguousarray(signal[:n_target])
    return np.pad(signal, (0, n_target - signal.shape[0]))


def audio_duration_s(path: str | Path) -> float:
    """Duration (s) of an audio file from its header (frames / sample rate), without decoding it."""
    path = _existing(path)
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError) as error:
        raise AudioError(f"{path}: cannot read audio header ({error})") from None
    if info.samplerate <= 0:
        raise AudioError(f"{path}: invalid sample rate {info.samplerate}")
    return info.frames / info.samplerate


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: audio file not found")
    return path
