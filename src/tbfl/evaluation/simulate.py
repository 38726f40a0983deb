"""Synthetic evaluation cases: DESED-like reference events and scores that follow them noisily.

Used by the tests (small cases) and ``benchmarks/bench_eval.py`` (DESED size);
nothing here is needed to evaluate a real system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tbfl.constants import CLIP_DURATION_S, DESED_CLASSES, FRAME_HOP_S, N_FRAMES


@dataclass(frozen=True)
class SimulatedCase:
    """``scores``: clip id -> (C, n_frames); ``events``: filename, onset, offset, event_label; ``durations``: clip id -> s."""

    scores: dict[str, np.ndarray]
    events: pd.DataFrame
    durations: dict[str, float]
    classes: tuple[str, ...]
    frame_hop_s: float


def simulate_case(
    n_clips: int,
    *,
    seed: int = 0,
    classes: tuple[str, ...] = DESED_CLASSES,
    n_frames: int = N_FRAMES,
    frame_hop_s: float = FRAME_HOP_S,
    events_per_clip: float = 3.6,
    timing_jitter_s: float = 0.25,
    noise: float = 1.0,
) -> SimulatedCase:
    """A case of ``n_clips`` 10 s clips (about ``events_per_clip`` events each, some clips with none).

    Scores are sigmoids of smoothed noise plus a bump over each reference event
    whose edges are moved by up to ``timing_jitter_s``: realistic enough to
    give partial matches, misses and false alarms at every threshold.
    """
    rng = np.random.default_rng(seed)
    rows, scores = [], {}
    frame_start_s = np.arange(n_frames) * frame_hop_s
    for i in range(n_clips):
        clip = f"clip{i:05d}"
        events = _clip_events(rng, len(classes), rng.poisson(events_per_clip))
        logits = rng.normal(-2.0, 0.5, size=(len(classes), 1)) + _smooth_noise(rng, (len(classes), n_frames), noise)
        for label, onset_s, offset_s in events:
            rows.append((f"{clip}.wav", onset_s, offset_s, classes[label]))
            start_s, stop_s = np.sort([onset_s, offset_s] + rng.uniform(-timing_jitter_s, timing_jitter_s, 2))
            inside = (frame_start_s + frame_hop_s > start_s) & (frame_start_s < stop_s)
            logits[label, inside] += rng.uniform(1.5, 5.0)
        scores[clip] = 1.0 / (1.0 + np.exp(-logits))
    events = pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])
    durations = {clip: CLIP_DURATION_S for clip in scores}
    return SimulatedCase(scores, events, durations, tuple(classes), frame_hop_s)


def _clip_events(rng: np.random.Generator, n_classes: int, n_events: int) -> list[tuple[int, float, float]]:
    """Up to ``n_events`` events (class, onset, offset) in ms precision; same-class events never overlap."""
    events: list[tuple[int, float, float]] = []
    for _ in range(n_events):
        label = int(rng.integers(n_classes))
        length_s = float(np.exp(rng.uniform(np.log(0.2), np.log(CLIP_DURATION_S))))
        onset_s = round(float(rng.uniform(0.0, CLIP_DURATION_S - length_s)), 3)
        offset_s = round(min(onset_s + length_s, CLIP_DURATION_S), 3)
        if all(c != label or offset_s < on or onset_s > off for c, on, off in events):
            events.append((label, onset_s, offset_s))
    return events


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Gaussian noise smoothed over about 5 frames, standard deviation about ``scale``."""
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    kernel /= np.sqrt(np.sum(kernel**2))
    white = rng.normal(0.0, scale, size=(shape[0], shape[1] + len(kernel) - 1))
    return np.stack([np.convolve(row, kernel, mode="valid") for row in white])
