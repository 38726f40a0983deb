"""Soundscapes: a 10 s background plus 1-5 foreground events, mixed with numpy.

A clip is first *planned* from its own RNG (which sources, where, at what SNR),
which fixes its labels without touching audio; ``render_clip`` then mixes the
plan. Times are on a 1 ms grid (16 samples), so a label rounded to 3 decimals is
exactly the mixed span.

Event SNR is relative to the background: ``20 log10(active_rms(event) / rms(background))``,
where the active RMS ignores the event's near-silent frames.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from tbfl.constants import CLIP_DURATION_S, DESED_CLASSES, FRAME_HOP_S
from tbfl.synth import dsp
from tbfl.synth.dsp import SR
from tbfl.synth.soundbank import SourceFile
from tbfl.data.table1 import PAPER_TABLE1

SAMPLES_PER_MS = SR // 1000
CLIP_MS = int(round(CLIP_DURATION_S * 1000))
CLIP_SAMPLES = CLIP_MS * SAMPLES_PER_MS


@dataclass(frozen=True)
class MixSettings:
    """How clips are drawn. Lengths in ms, levels in dB."""

    n_events: tuple[int, int] = (1, 5)
    snr_db: tuple[float, float] = (6.0, 30.0)
    #: A source longer than the clip is cropped to a random length in this share of the clip.
    long_crop_share: tuple[float, float] = (0.7, 1.0)
    background_rms_dbfs: tuple[float, float] = (-50.0, -35.0)
    peak: float = 0.99
    #: Placement attempts for an event before its class is given up for this clip.
    max_tries: int = 20


@dataclass(frozen=True)
class EventPlan:
    """One foreground event: source span ``[source_start, source_start + n_ms ms)`` placed at ``onset_ms``."""

    label: str
    source: str
    source_start: int
    onset_ms: int
    n_ms: int
    snr_db: float

    @property
    def offset_ms(self) -> int:
        return self.onset_ms + self.n_ms


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to mix one clip and to write its labels."""

    filename: str
    background: str
    background_start: int
    background_rms_dbfs: float
    events: tuple[EventPlan, ...]

    def strong_rows(self) -> list[tuple[str, float, float, str]]:
        """``(filename, onset_s, offset_s, label)`` per event, sorted by onset."""
        return [(self.filename, e.onset_ms / 1000, e.offset_ms / 1000, e.label) for e in sorted(self.events, key=lambda e: (e.onset_ms, e.label))]

    def tags(self) -> tuple[str, ...]:
        """Classes present, in DESED order."""
        present = {e.label for e in self.events}
        return tuple(c for c in DESED_CLASSES if c in present)


def expected_event_frames(source: SourceFile, settings: MixSettings) -> float:
    """Mean number of model frames (``FRAME_HOP_S``) covered by an event drawn from ``source``.

    An event of d seconds at a random onset covers on average d / hop + 1 frames
    (its onset frame is floored and its offset frame ceiled).
    """
    n_ms = source.n_samples // SAMPLES_PER_MS
    duration_s = (n_ms if n_ms <= CLIP_MS else CLIP_MS * float(np.mean(settings.long_crop_share))) / 1000
    return duration_s / FRAME_HOP_S + 1.0


def class_probabilities(
    foreground: tuple[SourceFile, ...], settings: MixSettings, target_ratios: dict[str, float] | None = None,
    event_shares: dict[str, float] | None = None,
) -> dict[str, float]:
    """Event class probabilities p_c ∝ r_c / E[frames per event of c], so the frame ratios r_c match the target;
    with ``event_shares`` (class -> share of events), p_c ∝ that share instead, whatever the lengths.

    The default target is the paper's Table 1 (DESED synthetic training set).
    Classes with no source get no probability.
    """
    target = target_ratios or dict(zip(PAPER_TABLE1.classes, PAPER_TABLE1.frame_ratios))
    weights = {}
    for label in DESED_CLASSES:
        sources = [s for s in foreground if s.label == label]
        if sources:
            weights[label] = (event_shares[label] if event_shares is not None
                              else target[label] / np.mean([expected_event_frames(s, settings) for s in sources]))
    total = sum(weights.values())
    return {label: w / total for label, w in weights.items()}


def plan_clip(
    rng: np.random.Generator,
    filename: str,
    foreground: tuple[SourceFile, ...],
    background: tuple[SourceFile, ...],
    probabilities: dict[str, float],
    settings: MixSettings = MixSettings(),
) -> ClipPlan:
    """Draw one clip: a background kind then file, a number of events, each event's class, source, span, onset, SNR.

    Events of one class never overlap (a clash is redrawn, up to ``max_tries``).
    """
    kinds = sorted({b.label for b in background})
    kind = kinds[rng.integers(len(kinds))]
    candidates = [b for b in background if b.label == kind]
    bg = candidates[rng.integers(len(candidates))]
    bg_start = int(rng.integers(0, max(1, bg.n_samples - CLIP_SAMPLES + 1)))
    by_class = {label: [s for s in foreground if s.label == label] for label in probabilities}
    labels, p = list(probabilities), np.array(list(probabilities.values()))
    events: list[EventPlan] = []
    for _ in range(rng.integers(settings.n_events[0], settings.n_events[1] + 1)):
        label = labels[rng.choice(len(labels), p=p)]
        for _ in range(settings.max_tries):
            event = _draw_event(rng, label, by_class[label], settings)
            if all(e.label != label or e.offset_ms <= event.onset_ms or event.offset_ms <= e.onset_ms for e in events):
                events.append(event)
                break
    return ClipPlan(filename, bg.path, bg_start, float(rng.uniform(*settings.background_rms_dbfs)), tuple(events))


def _draw_event(rng: np.random.Generator, label: str, sources: list[SourceFile], settings: MixSettings) -> EventPlan:
    source = sources[rng.integers(len(sources))]
    source_ms = source.n_samples // SAMPLES_PER_MS
    if source_ms <= CLIP_MS:
        n_ms, start = source_ms, 0
    else:
        n_ms = int(round(CLIP_MS * rng.uniform(*settings.long_crop_share)))
        start = int(rng.integers(0, source.n_samples - n_ms * SAMPLES_PER_MS + 1))
    onset_ms = int(rng.integers(0, CLIP_MS - n_ms + 1))
    return EventPlan(label, source.path, start, onset_ms, n_ms, float(rng.uniform(*settings.snr_db)))


@functools.lru_cache(maxsize=16)
def _whole_file_16k(path: str) -> np.ndarray:
    """A file that is not 16 kHz mono, mixed down and resampled (cached per process)."""
    audio, rate_hz = sf.read(path, dtype="float64", always_2d=True)
    return soxr.resample(audio.mean(axis=1), rate_hz, SR)


def read_span(path: str, start: int, n_samples: int) -> np.ndarray:
    """Samples ``[start, start + n_samples)`` of ``path`` at 16 kHz mono (zero-padded if short)."""
    info = sf.info(path)
    if info.samplerate == SR and info.channels == 1:
        audio, _ = sf.read(path, start=start, frames=n_samples, dtype="float64")
    else:
        audio = _whole_file_16k(path)[start : start + n_samples]
    return np.pad(audio, (0, n_samples - len(audio)))


def read_background(path: str, start: int) -> np.ndarray:
    """A 10 s background span from ``start``; a file shorter than the clip is looped."""
    info = sf.info(path)
    n_samples = info.frames * SR // info.samplerate
    if n_samples >= CLIP_SAMPLES:
        return read_span(path, start, CLIP_SAMPLES)
    whole = read_span(path, 0, n_samples)
    return np.tile(whole, CLIP_SAMPLES // max(1, len(whole)) + 1)[:CLIP_SAMPLES]


def render_clip(plan: ClipPlan, settings: MixSettings = MixSettings()) -> np.ndarray:
    """Mix ``plan`` into a ``(CLIP_SAMPLES,)`` float array with peak <= ``settings.peak``."""
    background = read_background(plan.background, plan.background_start)
    bg_rms = float(np.sqrt(np.mean(background**2)))
    target_bg_rms = 10 ** (plan.background_rms_dbfs / 20)
    mix = background * (target_bg_rms / bg_rms) if bg_rms > 0 else background
    for event in plan.events:
        n_samples = event.n_ms * SAMPLES_PER_MS
        audio = dsp.fade(read_span(event.source, event.source_start, n_samples), 0.002, 0.005)
        level = dsp.active_rms(audio)
        if level > 0:
            start = event.onset_ms * SAMPLES_PER_MS
            mix[start : start + n_samples] += audio * (target_bg_rms * 10 ** (event.snr_db / 20) / level)
    peak = np.max(np.abs(mix))
    return mix * (settings.peak / peak) if peak > settings.peak else mix
