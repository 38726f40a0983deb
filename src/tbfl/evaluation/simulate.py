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


@dataclass(frozen=True)
class ArrayCase:
    """A large case as arrays: ``scores`` (n_clips, C, n_frames) float32 on a regular grid starting at 0 s.

    ``events`` has filename (clip id + ``.wav``), onset, offset, event_label;
    every clip lasts ``n_frames * frame_hop_s`` seconds.
    """

    clip_ids: tuple[str, ...]
    scores: np.ndarray
    events: pd.DataFrame
    classes: tuple[str, ...]
    frame_hop_s: float

    @property
    def durations(self) -> dict[str, float]:
        return dict.fromkeys(self.clip_ids, self.scores.shape[2] * self.frame_hop_s)

    def score_dict(self) -> dict[str, np.ndarray]:
        """clip id -> (C, n_frames) view of :attr:`scores` (no copy)."""
        return dict(zip(self.clip_ids, self.scores))

    def subset(self, n_clips: int, n_classes: int | None = None) -> "ArrayCase":
        """The first ``n_clips`` clips (and first ``n_classes`` classes) with their events."""
        classes = self.classes[:n_classes]
        clip_ids = self.clip_ids[:n_clips]
        keep = self.events["filename"].isin([f"{c}.wav" for c in clip_ids]) & self.events["event_label"].isin(classes)
        return ArrayCase(clip_ids, self.scores[:n_clips, : len(classes)], self.events[keep].reset_index(drop=True),
                         classes, self.frame_hop_s)


def simulate_array_case(
    n_clips: int,
    n_classes: int,
    *,
    n_frames: int = 100,
    frame_hop_s: float = 0.1,
    events_per_clip: float = 7.0,
    seed: int = 0,
    block_clips: int = 500,
    max_event_s: float | None = None,
) -> ArrayCase:
    """An AudioSet-strong-like case, made block by block in about ``4 * n_clips * C * n_frames`` bytes.

    Classes are drawn with Zipf-like frequencies (a long tail of rare ones),
    each at least once when there are enough events; event lengths are log-uniform in [0.1 s, clip length]
    (or ``max_event_s`` if shorter), times in ms;
    same-class events of a clip never overlap (later ones are dropped).
    Scores are sigmoids of a per-(clip, class) offset, noise smoothed over
    about 5 frames and a bump over each event with jittered edges; about 5 %
    of the events get no bump (misses).
    """
    rng = np.random.default_rng(seed)
    clip_s = n_frames * frame_hop_s
    classes = tuple(f"class{c:03d}" for c in range(n_classes))
    frequency = 1.0 / (np.arange(n_classes) + 5.0)
    n_events = rng.poisson(events_per_clip, n_clips)
    clip = np.repeat(np.arange(n_clips), n_events)
    label = rng.choice(n_classes, size=len(clip), p=frequency / frequency.sum())
    if len(label) >= n_classes:  # every class at least once (sed_scores_eval refuses classes without events)
        label[rng.choice(len(label), n_classes, replace=False)] = np.arange(n_classes)
    length_s = np.exp(rng.uniform(np.log(0.1), np.log(min(clip_s, max_event_s or clip_s)), len(clip)))
    onset_s = np.round(rng.uniform(0.0, clip_s - length_s), 3)
    offset_s = np.round(np.minimum(onset_s + length_s, clip_s), 3)
    order = np.lexsort((onset_s, label, clip))
    clip, label, onset_s, offset_s = clip[order], label[order], onset_s[order], offset_s[order]
    track = clip * n_classes + label
    keep = np.ones(len(clip), dtype=bool)
    running_offset = -np.inf
    for i in range(len(clip)):  # drop events overlapping an earlier one of their track
        if i and track[i] != track[i - 1]:
            running_offset = -np.inf
        keep[i] = onset_s[i] > running_offset
        running_offset = max(running_offset, offset_s[i])
    clip, label, onset_s, offset_s = clip[keep], label[keep], onset_s[keep], offset_s[keep]

    scores = np.empty((n_clips, n_classes, n_frames), dtype=np.float32)
    jitter = rng.uniform(-0.3, 0.3, (len(clip), 2))
    start = np.clip(np.floor((onset_s + jitter[:, 0]) / frame_hop_s), 0, n_frames).astype(np.int64)
    stop = np.clip(np.ceil((offset_s + jitter[:, 1]) / frame_hop_s), start + 1, n_frames).astype(np.int64)
    height = np.where(rng.random(len(clip)) < 0.05, 0.0, rng.uniform(1.5, 6.0, len(clip))).astype(np.float32)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    kernel = (kernel / np.sqrt(np.sum(kernel**2))).astype(np.float32)
    for first in range(0, n_clips, block_clips):
        last = min(first + block_clips, n_clips)
        white = rng.standard_normal((last - first, n_classes, n_frames + len(kernel) - 1), dtype=np.float32)
        logits = np.zeros((last - first, n_classes, n_frames + 1), dtype=np.float32)
        for k, weight in enumerate(kernel):
            logits[..., :n_frames] += weight * white[..., k : k + n_frames]
        del white
        logits[..., :n_frames] += rng.normal(-3.5, 1.0, (last - first, n_classes, 1)).astype(np.float32)
        mine = slice(*np.searchsorted(clip, [first, last]))
        bump = np.zeros_like(logits)
        np.add.at(bump, (clip[mine] - first, label[mine], start[mine]), height[mine])
        np.add.at(bump, (clip[mine] - first, label[mine], stop[mine]), -height[mine])
        logits += np.cumsum(bump, axis=2)
        del bump
        scores[first:last] = 1.0 / (1.0 + np.exp(-logits[..., :n_frames]))
    clip_ids = tuple(f"clip{i:05d}" for i in range(n_clips))
    events = pd.DataFrame({
        "filename": np.array([f"{c}.wav" for c in clip_ids], dtype=object)[clip],
        "onset": onset_s, "offset": offset_s,
        "event_label": np.array(classes, dtype=object)[label],
    })
    return ArrayCase(clip_ids, scores, events, classes, frame_hop_s)
