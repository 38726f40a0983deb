"""The DCASE2021 baseline's log-mel features, and an on-disk cache of them.

Pipeline (the baseline's torchaudio ``MelSpectrogram`` + ``AmplitudeToDB``, rebuilt on torch.stft):

    audio (16 kHz, 10 s)
      -> |STFT|: n_fft = window = 2048, hop 256, symmetric Hamming window
         (torch.hamming_window(periodic=False)), center=True, reflect padding
      -> mel: 128 triangular HTK-scale filters over 0-8000 Hz, no area
         normalisation (torchaudio's defaults mel_scale="htk", norm=None;
         equal to librosa.filters.mel(htk=True, norm=None))
      -> dB: 20 * log10(max(x, 1e-5)), no reference scaling, no top_db
         (AmplitudeToDB(stype="amplitude") with amin set to 1e-5)
      -> clamp to [-50, 80] dB                                 = compute_features / LogMel
      -> per-clip min-max: (x - min) / (max - min + 1e-8), min and max over
         the whole (mels, frames) clip (TorchScaler("instance", "minmax",
         dims=(1, 2)))                                          = minmax_scale

10 s at 16 kHz gives 1 + 160000 // 256 = 626 frames.

The cache stores the clamped dB *before* scaling: the scaling is cheap, is done
on the device by the training code, and keeping it out of the cache keeps the
cache valid whatever the scaler (the baseline's tracker saw scaler changes make
old checkpoints silently worse) and lets mixup act before scaling.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from tbfl.data.audio import load_audio
from tbfl.data.labels import FrameGrid
from tbfl.io import atomic_path

#: Bump when the computation changes, so old cache entries stop matching.
_FORMAT_VERSION = 1
#: The baseline scaler's epsilon.
_MINMAX_EPS = 1e-8


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel settings; every default is the DCASE2021 baseline's."""

    sample_rate_hz: int = 16000
    n_fft: int = 2048
    win_length: int = 2048
    hop_length: int = 256
    n_mels: int = 128
    f_min_hz: float = 0.0
    f_max_hz: float = 8000.0
    amin: float = 1e-5
    db_min: float = -50.0
    db_max: float = 80.0
    clip_duration_s: float = 10.0

    def __post_init__(self) -> None:
        # YAML may give 0 for 0.0: normalise the types so equal settings hash to one cache key.
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, {"int": int, "float": float}[field.type](getattr(self, field.name)))
        for name in ("sample_rate_hz", "n_fft", "win_length", "hop_length", "n_mels"):
            if getattr(self, name) < 1:
                raise ValueError(f"FeatureConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.win_length > self.n_fft:
            raise ValueError(f"FeatureConfig.win_length ({self.win_length}) must not exceed n_fft ({self.n_fft})")
        if not 0.0 <= self.f_min_hz < self.f_max_hz <= self.sample_rate_hz / 2:
            raise ValueError(f"FeatureConfig needs 0 <= f_min_hz < f_max_hz <= sample_rate_hz / 2, got {self.f_min_hz}, {self.f_max_hz}")
        if self.amin <= 0 or self.db_min >= self.db_max:
            raise ValueError(f"FeatureConfig needs amin > 0 and db_min < db_max, got {self.amin}, {self.db_min}, {self.db_max}")
        if self.n_samples <= self.n_fft // 2:
            raise ValueError(f"FeatureConfig.clip_duration_s={self.clip_duration_s} is shorter than half an FFT window")

    @property
    def n_samples(self) -> int:
        """Samples per clip (160000 for 10 s at 16 kHz)."""
        return int(round(self.clip_duration_s * self.sample_rate_hz))

    @property
    def n_frames(self) -> int:
        """Feature frames per clip (626 for the baseline)."""
        return 1 + self.n_samples // self.hop_length

    def frame_grid(self, time_pooling: int) -> FrameGrid:
        """The output frame grid of a model that pools these features by ``time_pooling`` in time.

        The rule is the baseline's: the centered STFT gives n_in = 1 + n_samples // hop_length
        frames, the CNN's average pooling floors at every block (floor(floor(n / a) / b) =
        floor(n / (a b))), so

            n_frames    = n_in // time_pooling                  (626 // 4 = 156)
            frame_hop_s = hop_length * time_pooling / sample_rate_hz   (0.064 s)

        and the n_in - n_frames * time_pooling (< time_pooling) input frames at the clip's end are
        dropped, less than one output frame. A pooling that does not divide n_in is fine (the
        baseline's 626 does not divide by 4). ValueError where no consistent grid exists:

        - time_pooling > n_in: no output frame at all;
        - time_pooling = 1 and hop_length divides n_samples: the last frame starts at the clip's
          end, so its targets are always 0 while its centered window still sees the clip's last
          samples (with any pooling >= 2 every output frame starts inside the clip).
        """
        time_pooling = int(time_pooling)
        if time_pooling < 1:
            raise ValueError(f"time pooling must be >= 1, got {time_pooling}")
        n_frames = self.n_frames // time_pooling
        if n_frames < 1:
            raise ValueError(
                f"time pooling {time_pooling} exceeds the {self.n_frames} feature frames of a {self.clip_duration_s:g} s clip "
                f"at hop {self.hop_length}: no output frame"
            )
        hop_samples = self.hop_length * time_pooling
        if (n_frames - 1) * hop_samples >= self.n_samples:
            raise ValueError(
                f"the last of {n_frames} output frames would start at {(n_frames - 1) * hop_samples / self.sample_rate_hz:g} s, "
                f"at the end of the {self.clip_duration_s:g} s clip: its targets would always be 0 while its features see "
                f"the clip's last samples (use a time pooling >= 2, or a hop that does not divide the clip's {self.n_samples} samples)"
            )
        return FrameGrid(frame_hop_s=hop_samples / self.sample_rate_hz, n_frames=n_frames)

    def key(self) -> str:
        """A short stable hash of the settings (and of the feature code's version): the cache folder name."""
        text = json.dumps({"version": _FORMAT_VERSION, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]


def mel_filterbank(config: FeatureConfig | None = None) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) float32 triangular filters on the HTK mel scale, unnormalised (peak 1).

    torchaudio's ``melscale_fbanks`` defaults (mel_scale="htk", norm=None), equal to
    ``librosa.filters.mel(htk=True, norm=None)``: filter m rises linearly from
    edge m to edge m + 1 and falls to edge m + 2, the n_mels + 2 edges evenly
    spaced in mel = 2595 log10(1 + f / 700) between f_min_hz and f_max_hz.
    """
    config = config or FeatureConfig()
    bin_hz = np.linspace(0.0, config.sample_rate_hz / 2, config.n_fft // 2 + 1)
    mel_edges = np.linspace(_hz_to_mel(config.f_min_hz), _hz_to_mel(config.f_max_hz), config.n_mels + 2)
    edges_hz = 700.0 * (10.0 ** (mel_edges / 2595.0) - 1.0)
    widths_hz = np.diff(edges_hz)
    offsets_hz = edges_hz[None, :] - bin_hz[:, None]  # (n_bins, n_mels + 2)
    rising = -offsets_hz[:, :-2] / widths_hz[:-1]
    falling = offsets_hz[:, 2:] / widths_hz[1:]
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def _hz_to_mel(frequency_hz: float) -> float:
    return 2595.0 * np.log10(1.0 + frequency_hz / 700.0)


class LogMel(torch.nn.Module):
    """Batched log-mel on any device: waveforms (B, n_samples) -> clamped dB (B, n_mels, n_frames), unscaled.

    n_frames = 1 + n_samples // hop_length. Holds no parameters; the window and
    the filterbank are non-persistent buffers, so ``.to(device)`` moves them.
    """

    def __init__(self, config: FeatureConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or FeatureConfig()
        self.register_buffer("window", torch.hamming_window(config.win_length, periodic=False, dtype=torch.float32), persistent=False)
        self.register_buffer("filterbank", torch.from_numpy(mel_filterbank(config)), persistent=False)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        if waveforms.ndim != 2:
            raise ValueError(f"LogMel expects waveforms (batch, samples), got shape {tuple(waveforms.shape)}")
        config = self.config
        spectrum = torch.stft(
            waveforms.to(self.window.dtype),
            n_fft=config.n_fft,
            hop_length=config.hop_length,
            win_length=config.win_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        ).abs()  # (B, n_fft // 2 + 1, n_frames)
        mel = torch.matmul(self.filterbank.T, spectrum)  # (B, n_mels, n_frames)
        decibels = 20.0 * torch.log10(mel.clamp(min=config.amin))
        return decibels.clamp(config.db_min, config.db_max)


def minmax_scale(x: torch.Tensor) -> torch.Tensor:
    """The baseline's per-clip scaler: (x - min) / (max - min + 1e-8), min and max over each clip's (mels, frames).

    (B, M, T) -> (B, M, T) in [0, 1).
    """
    if x.ndim != 3:
        raise ValueError(f"minmax_scale expects (batch, mels, frames), got shape {tuple(x.shape)}")
    low = x.amin(dim=(1, 2), keepdim=True)
    high = x.amax(dim=(1, 2), keepdim=True)
    return (x - low) / (high - low + _MINMAX_EPS)


@functools.lru_cache(maxsize=4)
def _log_mel(config: FeatureConfig) -> LogMel:
    return LogMel(config)


@torch.no_grad()
def compute_features(audio: np.ndarray, config: FeatureConfig | None = None) -> np.ndarray:
    """Clamped log-mel dB of one clip, *not* scaled (apply ``minmax_scale`` before the model).

    Args:
        audio: (n_samples,) float waveform at ``config.sample_rate_hz``, already padded or cut to the clip length.
    Returns:
        (n_mels, 1 + n_samples // hop_length) float32, values in [db_min, db_max].
    """
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"compute_features expects a mono waveform (samples,), got shape {audio.shape}")
    waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    return _log_mel(config or FeatureConfig())(waveform[None])[0].numpy()


class FeatureCache:
    """Features of audio files computed once and kept on disk as memory-mappable ``.npy`` files.

    An entry lives at ``cache_dir/<config key>/<h[:2]>/<h>.npy`` with
    h = sha1(resolved path | size | mtime_ns): a changed config or a changed
    (even touched) file gets a new entry, and the stale one is never read.
    Entries are written atomically (temporary file + rename), so DataLoader
    workers and DDP ranks may fill the cache at the same time: whoever renames
    last wins, and every writer wrote the same bytes. Stale entries are left
    on disk (delete the folder to reclaim the space).

    ``hits`` and ``misses`` count this object's look-ups (per process).
    """

    def __init__(self, cache_dir: str | Path, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self.directory = Path(cache_dir) / self.config.key()
        self.shape = (self.config.n_mels, self.config.n_frames)
        self.hits = 0
        self.misses = 0

    def entry_path(self, audio_path: str | Path) -> Path:
        """Where the features of ``audio_path`` (in its current state) are stored."""
        resolved = Path(audio_path).resolve()
        try:
            stat = resolved.stat()
        except FileNotFoundError:
            raise FileNotFoundError(f"audio file not found: {audio_path}") from None
        digest = hashlib.sha1(f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.npy"

    def get(self, audio_path: str | Path) -> np.ndarray:
        """(n_mels, n_frames) float32 clamped dB of one file, read-only memory-mapped on a hit; computed and stored on a miss."""
        entry = self.entry_path(audio_path)
        features = self._load(entry, self.shape)
        if features is not None:
            self.hits += 1
            return features
        self.misses += 1
        return self._compute(audio_path, entry)

    def fill(self, audio_paths: Iterable[str | Path], *, description: str = "features", progress: bool = True) -> int:
        """Compute every missing entry, with a progress bar; returns how many were computed. Resumable."""
        audio_paths = list(audio_paths)
        missing = [(path, entry) for path in audio_paths if not (entry := self.entry_path(path)).exists()]
        self.hits += len(audio_paths) - len(missing)
        self.misses += len(missing)
        for path, entry in tqdm(missing, desc=description, unit="clip", disable=not progress or not missing):
            self._compute(path, entry)
        return len(missing)

    def get_many(self, audio_paths: Sequence[str | Path], *, progress: bool = True) -> np.ndarray:
        """(N, n_mels, n_frames) float32 of many files as one read-only memory map.

        The stack is itself cached (``<config key>/stacks/``), keyed by its
        entries, so it costs a second copy on disk; training reads ``get``.
        """
        entries = [self.entry_path(path) for path in audio_paths]
        if not entries:
            return np.zeros((0, *self.shape), np.float32)
        digest = hashlib.sha1("\n".join(entry.name for entry in entries).encode()).hexdigest()
        stack_path = self.directory / "stacks" / f"{digest}.npy"
        stack = self._load(stack_path, (len(entries), *self.shape))
        if stack is not None:
            self.hits += len(entries)
            return stack
        with atomic_path(stack_path) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(entries), *self.shape))
            for i, path in enumerate(tqdm(audio_paths, desc="features", unit="clip", disable=not progress)):
                out[i] = self.get(path)
            out.flush()
            del out
        return np.load(stack_path, mmap_mode="r")

    def _compute(self, audio_path: str | Path, entry: Path) -> np.ndarray:
        audio = load_audio(audio_path, sample_rate=self.config.sample_rate_hz, duration_s=self.config.clip_duration_s)
        features = compute_features(audio, self.config)
        if features.shape != self.shape:
            raise ValueError(f"{audio_path}: features of shape {features.shape}, expected {self.shape}")
        if self.entry_path(audio_path) == entry:  # else the file changed while it was read: do not store
            with atomic_path(entry) as tmp:
                np.save(tmp, features)
        return features

    @staticmethod
    def _load(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
        """The array at ``path`` memory-mapped, or None if absent, unreadable or of another shape."""
        try:
            array = np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            return None
        return array if array.shape == shape and array.dtype == np.float32 else None
