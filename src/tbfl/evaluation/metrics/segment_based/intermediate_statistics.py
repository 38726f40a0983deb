"""Segment-based statistics: each clip cut into fixed segments, a score and a label per (segment, class).

As sed_scores_eval's ``segment_based``: a clip of duration d has
``ceil(d / L)`` segments ``[j L, (j + 1) L)`` (boundaries rounded to
``time_decimals``; the last one may reach past d). A segment is positive
for a class when a reference event of the class overlaps it (``onset <
segment offset`` and ``offset > segment onset``, strictly). Its score is the
maximum over the frames that overlap it: frames ``first : stop`` with
``first`` the last frame starting at or before the segment onset and
``stop`` the first frame starting at or after its offset (frame times
rounded too), 0 when no frame does (a segment past the scores' end).
A frame that straddles a boundary counts in both segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tbfl.evaluation.metrics.detections import ScoreGrid, expand_ranges
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.items import ItemStatistics


@dataclass(frozen=True)
class Segments:
    """Every segment of every clip (all arrays (n_segments,)): its clip, its frames ``[first_frame, stop_frame)``,
    and ``positive`` (n_segments, C) its labels."""

    clip: np.ndarray
    first_frame: np.ndarray
    stop_frame: np.ndarray
    positive: np.ndarray

    @classmethod
    def of(cls, grid: ScoreGrid, n_frames: np.ndarray, duration_s: np.ndarray, reference: GroundTruth,
           segment_length_s: float, time_decimals: int = 6) -> "Segments":
        """The segments of ``grid``'s clips ((n_clips,) frame counts and durations in seconds)."""
        clip, first, stop, positive = [], [], [], []
        n_classes = reference.n_classes
        for k, (frames, duration) in enumerate(zip(n_frames, duration_s)):
            n_segments = int(np.ceil(duration / segment_length_s))
            bounds = np.round(np.arange(n_segments + 1) * segment_length_s, time_decimals)
            onset, offset = bounds[:-1], bounds[1:]
            times = np.round(grid.times_s[k, : frames + 1], time_decimals)
            clip.append(np.full(n_segments, k))
            first.append(np.maximum(np.searchsorted(times, onset, side="right") - 1, 0))
            stop.append(np.minimum(np.searchsorted(times, offset, side="left"), frames))
            labels = np.zeros((n_segments, n_classes), dtype=bool)
            events = slice(reference.row_start[k * n_classes], reference.row_start[(k + 1) * n_classes])
            after = np.searchsorted(offset, reference.onset_s[events], side="right")  # first segment ending after the onset
            before = np.searchsorted(onset, reference.offset_s[events], side="left")  # segments starting before the offset
            event, segment = expand_ranges(after, np.maximum(before - after, 0))
            labels[segment, reference.label[events][event]] = True
            positive.append(labels)
        return cls(*(np.concatenate(column) for column in (clip, first, stop)), np.concatenate(positive))

    def scores(self, grid: ScoreGrid) -> np.ndarray:
        """(n_segments, grid.n_classes) the maximum score of each segment's frames (0 for a segment without frames)."""
        n_classes = grid.n_classes
        count = np.maximum(self.stop_frame - self.first_frame, 0)
        owner, frame = expand_ranges(self.first_frame, count)
        values = grid.values.reshape(-1, n_classes, grid.values.shape[1])
        result = np.zeros((len(count), n_classes))
        if len(owner):
            framed = values[self.clip[owner], :, 1 + frame]  # (pairs, C): pairs grouped by segment
            starts = np.cumsum(count) - count
            has_frames = count > 0
            result[has_frames] = np.maximum.reduceat(framed, starts[has_frames], axis=0)
        return result

    def statistics(self, classes: tuple[str, ...], scores: np.ndarray, n_clips: int) -> ItemStatistics:
        """The items of every segment with their (n_segments, C) ``scores``."""
        return ItemStatistics(tuple(classes), scores, self.positive, self.clip, n_clips)
