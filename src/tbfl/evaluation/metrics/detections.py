"""Every detection that any decision threshold can produce, found once.

Thresholding one class's frame scores ``x`` of one clip at ``t`` gives the
maximal runs of frames with ``x > t``. As ``t`` falls, runs appear, grow and
merge, so the runs over *all* thresholds form a tree with at most one node
per frame. A run of frames ``[a, b)`` is a detection exactly for

    death <= t < birth,   birth = min(x[a:b]),   death = max(x[a-1], x[b])

(``-inf`` beyond the clip). :func:`detection_intervals` lists every such run
with its birth and death, vectorised over all clips and classes; the metrics
then read any threshold, or all of them, off this one list. This is the
idea of sed_scores_eval (Ebbers et al., ICASSP 2022), computed here without
a per-clip loop: the run around each frame comes from its nearest lower
neighbours, found for all frames at once by binary search over a sparse
table of range minima.

Frame ``i`` of a clip covers ``[times_s[i], times_s[i + 1])`` seconds: a
regular grid (``i * hop``) or any contiguous grid a score table gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

import numpy as np

#: Rows of the score grid handled at once by the range-minimum search (bounds memory).
_ROWS_PER_CHUNK = 1024


@dataclass(frozen=True)
class ScoreGrid:
    """Frame scores of all clips as one padded array.

    Attributes:
        clip_ids: clip order; row ``clip * n_classes + class`` holds one class of one clip.
        n_classes: number of classes C.
        values: (n_clips * C, max_frames + 2) scores; column ``1 + i`` is frame ``i``;
            column 0 and every column after a clip's last frame hold ``-inf``.
        times_s: (n_clips, max_frames + 1) frame boundaries in seconds; a clip's
            row is padded with its last boundary.
    """

    clip_ids: tuple[str, ...]
    n_classes: int
    values: np.ndarray
    times_s: np.ndarray

    @classmethod
    def from_scores(
        cls, scores: Mapping[str, np.ndarray], clip_ids: tuple[str, ...], frame_hop_s: float | None = None,
        times_s: Mapping[str, np.ndarray] | None = None,
    ) -> "ScoreGrid":
        """Pack ``scores[clip]`` (C, n_frames) for every clip in ``clip_ids``.

        Frame boundaries are ``times_s[clip]`` ((n_frames + 1,) seconds) when
        given, else ``i * frame_hop_s``.
        """
        arrays = [np.asarray(scores[clip], dtype=np.float64) for clip in clip_ids]
        n_classes = arrays[0].shape[0]
        width = max(a.shape[1] for a in arrays) + 2
        values = np.full((len(arrays), n_classes, width), -np.inf)
        boundaries = np.empty((len(arrays), width - 1))
        for i, (clip, a) in enumerate(zip(clip_ids, arrays)):
            n_frames = a.shape[1]
            values[i, :, 1 : 1 + n_frames] = a
            clip_times = np.arange(n_frames + 1) * frame_hop_s if times_s is None else np.asarray(times_s[clip], np.float64)
            if clip_times.shape != (n_frames + 1,):
                raise ValueError(f"scores of {clip}: {n_frames} frames need {n_frames + 1} boundaries, got {clip_times.shape}")
            boundaries[i, : n_frames + 1] = clip_times
            boundaries[i, n_frames + 1 :] = clip_times[-1]
        return cls(tuple(clip_ids), n_classes, values.reshape(-1, width), boundaries)

    def boundaries_s(self) -> np.ndarray:
        """(n_clips, max_frames + 1) frame boundary times in seconds."""
        return self.times_s


@dataclass(frozen=True)
class Intervals:
    """Every run of frames that is a detection at some threshold (all arrays (n,)).

    ``row = clip * C + class`` indexes :attr:`ScoreGrid.values`; the run covers
    frames ``[on_frame, off_frame)``; it is a detection for ``death <= t < birth``.
    ``levels[c]`` holds the distinct scores of class c, ascending;
    ``birth_rank``/``death_rank`` index them (-1 for a death of ``-inf``).
    """

    row: np.ndarray
    on_frame: np.ndarray
    off_frame: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    birth_rank: np.ndarray
    death_rank: np.ndarray
    levels: tuple[np.ndarray, ...]
    n_classes: int
    times_s: np.ndarray

    @cached_property
    def clip(self) -> np.ndarray:
        return self.row // self.n_classes

    @cached_property
    def label(self) -> np.ndarray:
        return self.row % self.n_classes

    @cached_property
    def onset_s(self) -> np.ndarray:
        return self.times_s[self.clip, self.on_frame]

    @cached_property
    def offset_s(self) -> np.ndarray:
        return self.times_s[self.clip, self.off_frame]

    def subset(self, keep: np.ndarray) -> "Intervals":
        return Intervals(
            self.row[keep], self.on_frame[keep], self.off_frame[keep], self.birth[keep], self.death[keep],
            self.birth_rank[keep], self.death_rank[keep], self.levels, self.n_classes, self.times_s,
        )

    def alive_at(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per interval, the thresholds (indices into the ascending ``thresholds``) where it is a detection.

        Returns ``(first, count)``: interval ``i`` is a detection at thresholds
        ``first[i] : first[i] + count[i]`` (score > threshold).
        """
        first = np.searchsorted(thresholds, self.death, side="left")
        stop = np.searchsorted(thresholds, self.birth, side="left")
        return first, np.maximum(stop - first, 0)


def expand_ranges(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten ranges: ``(owner, value)`` lists ``value`` in ``first[i] : first[i] + count[i]`` for each ``i``.

    Pairs are grouped by owner, values ascending within a group.
    """
    owner = np.repeat(np.arange(len(count)), count)
    group_start = np.cumsum(count) - count
    return owner, first[owner] + np.arange(len(owner)) - group_start[owner]


def detection_intervals(
    grid: ScoreGrid, durations_s: np.ndarray | None = None, *, time_decimals: int = 6,
) -> Intervals:
    """All detection runs of ``grid`` with their birth and death scores.

    Runs that start at or after their clip's duration ((n_clips,) seconds,
    compared after rounding to ``time_decimals``) are dropped: they describe
    padding, not audio, and psds_eval ignores them too.
    """
    width = grid.values.shape[1]
    rank, levels = _class_ranks(grid)
    parts = []
    for start in range(0, len(grid.values), _ROWS_PER_CHUNK):
        flat = grid.values[start : start + _ROWS_PER_CHUNK].ravel()
        flat_rank = rank[start : start + _ROWS_PER_CHUNK].ravel()
        frame = np.flatnonzero(np.isfinite(flat))
        right = _first_right(flat, width, inclusive=False)[frame]
        left = len(flat) - 1 - _first_right(flat[::-1], width, inclusive=True)[len(flat) - 1 - frame]
        # A run is listed once, at the first frame holding its minimum: the
        # nearest earlier frame with a score <= this one must be strictly lower.
        first_min = flat[left] < flat[frame]
        frame, left, right = frame[first_min], left[first_min], right[first_min]
        higher_neighbour = np.where(flat[left] >= flat[right], left, right)
        # Column j holds frame j - 1: the run's columns (left, right) are frames [left, right - 1) of its row.
        row_in_chunk = frame // width
        parts.append((
            row_in_chunk + start,
            left - row_in_chunk * width,
            right - 1 - row_in_chunk * width,
            flat[frame],
            flat[higher_neighbour],
            flat_rank[frame],
            flat_rank[higher_neighbour],
        ))
    columns = (np.concatenate(column) for column in zip(*parts))
    intervals = Intervals(*columns, levels, grid.n_classes, grid.times_s)
    if durations_s is None:
        return intervals
    clip_duration_s = np.asarray(durations_s, dtype=np.float64)[intervals.clip]
    inside = np.round(intervals.onset_s - clip_duration_s, time_decimals) < 0
    return intervals if inside.all() else intervals.subset(inside)


def _class_ranks(grid: ScoreGrid) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Rank of every cell among the distinct scores of its class (-1 for ``-inf``), and those scores."""
    rank = np.full(grid.values.shape, -1, dtype=np.int64)
    levels = []
    for c in range(grid.n_classes):
        values = grid.values[c :: grid.n_classes]
        finite = np.isfinite(values)
        class_levels, index = np.unique(values[finite], return_inverse=True)
        class_rank = np.full(values.shape, -1, dtype=np.int64)
        class_rank[finite] = index
        rank[c :: grid.n_classes] = class_rank
        levels.append(class_levels)
    return rank, tuple(levels)


def _first_right(flat: np.ndarray, max_distance: int, *, inclusive: bool) -> np.ndarray:
    """For each element, the index of the first later element that is lower (``inclusive``: lower or equal).

    ``flat`` is 1-D, ends with ``-inf`` and has a ``-inf`` at most
    ``max_distance`` after every finite element; a sparse table of minima over
    blocks of 2**k elements lets every element binary-search at once.
    """
    n = len(flat)
    n_levels = max(1, int(np.ceil(np.log2(max_distance))))
    tables = [flat]
    for k in range(1, n_levels + 1):
        step = 1 << (k - 1)
        shifted = np.full_like(flat, -np.inf)
        shifted[: max(n - step, 0)] = tables[-1][step:]
        tables.append(np.minimum(tables[-1], shifted))
    position = np.minimum(np.arange(1, n + 1), n - 1)
    for k in range(n_levels, -1, -1):
        block_min = tables[k].take(position)
        skip = block_min > flat if inclusive else block_min >= flat
        position = np.minimum(position + (skip << k), n - 1)
    return position
