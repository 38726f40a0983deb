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

As the threshold falls, a frame joins (starts, extends or merges) exactly
one new run, so a clip of n frames has up to n runs per class. A metric that only looks at thresholds at or above a floor
(PSDS: see :func:`~.intersection_based.psds.efpr_floor`) can pass it: only
frames scoring above the floor are searched, and the runs among them are
exactly the detections at those thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

import numpy as np

#: Frames handled at once by the range-minimum search (bounds its memory, about 150 bytes a frame).
_FRAMES_PER_CHUNK = 1 << 20


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
    ``floor`` (C,): only runs of class c scoring above ``floor[c]`` are listed, and a
    run whose death is at or below it has death ``-inf``: the runs are the exact
    detections at thresholds ``>= floor[c]`` only (``-inf``: at every threshold).
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
    floor: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.floor is None:
            object.__setattr__(self, "floor", np.full(self.n_classes, -np.inf))

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
            self.birth_rank[keep], self.death_rank[keep], self.levels, self.n_classes, self.times_s, self.floor,
        )

    def in_class_set(self, first_class: int, n_classes: int) -> "Intervals":
        """These runs (of a grid holding classes ``first_class : first_class + self.n_classes``)
        renumbered into a set of ``n_classes`` classes; the other classes have no runs."""
        label = self.label + first_class
        empty = np.empty(0)
        levels = (empty,) * first_class + self.levels + (empty,) * (n_classes - first_class - self.n_classes)
        floor = np.full(n_classes, -np.inf)
        floor[first_class : first_class + self.n_classes] = self.floor
        return Intervals(
            self.clip * n_classes + label, self.on_frame, self.off_frame, self.birth, self.death,
            self.birth_rank, self.death_rank, levels, n_classes, self.times_s, floor,
        )

    def above(self, floor: np.ndarray) -> "Intervals":
        """The runs that :func:`detection_intervals` lists with ``floor`` (C,) (where it is above :attr:`floor`):
        the detections at thresholds ``>= floor[c]`` only, with the same levels and ranks."""
        floor = np.maximum(self.floor, np.asarray(floor, dtype=np.float64))
        if np.array_equal(floor, self.floor):
            return self
        n_below = np.array([np.searchsorted(levels, f, side="right") for levels, f in zip(self.levels, floor)], dtype=np.int64)
        keep = self.birth > floor[self.label]
        label = self.label[keep]
        death, death_rank = self.death[keep], self.death_rank[keep] - n_below[label]
        mortal = death > floor[label]
        return Intervals(
            self.row[keep], self.on_frame[keep], self.off_frame[keep], self.birth[keep], np.where(mortal, death, -np.inf),
            self.birth_rank[keep] - n_below[label], np.where(mortal, death_rank, -1),
            tuple(levels[n:] for levels, n in zip(self.levels, n_below)), self.n_classes, self.times_s, floor,
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


def range_chunks(first: np.ndarray, count: np.ndarray, max_pairs: int):
    """:func:`expand_ranges` a slice of owners at a time: yields ``(owner, value)`` for about ``max_pairs`` pairs
    (at least one owner) a chunk, owners ascending over the chunks; bounds the memory of a pairwise search."""
    ends = np.cumsum(count)
    start = 0
    while start < len(count):
        done = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, done + max_pairs, side="right")), start + 1)
        owner, value = expand_ranges(first[start:stop], count[start:stop])
        yield owner + start, value
        start = stop


def detection_intervals(
    grid: ScoreGrid, durations_s: np.ndarray | None = None, *, time_decimals: int = 6, floor: np.ndarray | None = None,
) -> Intervals:
    """All detection runs of ``grid`` with their birth and death scores.

    Runs that start at or after their clip's duration ((n_clips,) seconds,
    compared after rounding to ``time_decimals``) are dropped: they describe
    padding, not audio, and psds_eval ignores them too. ``floor`` (C,) limits
    the runs to the detections at thresholds ``>= floor[c]`` (see :class:`Intervals`).
    """
    width = grid.values.shape[1]
    floor = np.full(grid.n_classes, -np.inf) if floor is None else np.asarray(floor, dtype=np.float64)
    flat, cell = _active_frames(grid, floor)
    rank, levels = _class_ranks(flat, cell // width % grid.n_classes, grid.n_classes)
    parts = []
    for start, stop in _chunks(flat, _FRAMES_PER_CHUNK):
        chunk = flat[start:stop]
        frame = np.flatnonzero(np.isfinite(chunk))
        right = _first_right(chunk, width, inclusive=False)[frame]
        left = len(chunk) - 1 - _first_right(chunk[::-1], width, inclusive=True)[len(chunk) - 1 - frame]
        # A run is listed once, at the first frame holding its minimum: the
        # nearest earlier frame with a score <= this one must be strictly lower.
        first_min = chunk[left] < chunk[frame]
        frame, left, right = (index[first_min] + start for index in (frame, left, right))
        higher_neighbour = np.where(flat[left] >= flat[right], left, right)
        # The run holds the active frames strictly between its two lower neighbours;
        # column j of the grid holds frame j - 1.
        parts.append((
            cell[frame] // width,
            cell[left + 1] % width - 1,
            cell[right - 1] % width,
            flat[frame],
            flat[higher_neighbour],
            rank[frame],
            rank[higher_neighbour],
        ))
    columns = (np.concatenate(column) for column in zip(*parts))
    intervals = Intervals(*columns, levels, grid.n_classes, grid.times_s, floor)
    if durations_s is None:
        return intervals
    clip_duration_s = np.asarray(durations_s, dtype=np.float64)[intervals.clip]
    inside = np.round(intervals.onset_s - clip_duration_s, time_decimals) < 0
    return intervals if inside.all() else intervals.subset(inside)


def _active_frames(grid: ScoreGrid, floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frames scoring above their class's floor, each stretch followed by one ``-inf``.

    Returns ``flat`` (n,) scores (``-inf`` first and after each stretch) and
    ``cell`` (n,) their indices into ``grid.values.ravel()`` (those of the
    ``-inf`` entries point at the frame after the stretch, or 0 for the first).
    """
    values = grid.values
    active = values > floor[np.arange(len(values)) % grid.n_classes, None]
    kept = active.copy()
    kept[:, 1:] |= active[:, :-1]  # the frame after each stretch separates it from the next
    cell = np.concatenate([[0], np.flatnonzero(kept)])
    flat = values.ravel()[cell]
    flat[~active.ravel()[cell]] = -np.inf
    flat[0] = -np.inf
    return flat, cell


def _chunks(flat: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Spans ``[start, stop)`` of about ``size`` entries that start and end on a ``-inf`` (shared between neighbours)."""
    separators = np.flatnonzero(np.isneginf(flat))
    cuts = np.unique(separators[np.searchsorted(separators, np.arange(0, len(flat), size))[1:] - 1])
    bounds = np.unique(np.concatenate([[0], cuts, [separators[-1]]]))
    return [(int(a), int(b) + 1) for a, b in zip(bounds[:-1], bounds[1:])] or [(0, len(flat))]


def _class_ranks(flat: np.ndarray, label: np.ndarray, n_classes: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Rank of every entry among the distinct scores of its class (-1 for ``-inf``), and those scores."""
    rank = np.full(len(flat), -1, dtype=np.int64)
    finite = np.isfinite(flat)
    order = np.argsort(label[finite], kind="stable")
    where = np.flatnonzero(finite)[order]
    bounds = np.searchsorted(label[where], np.arange(n_classes + 1))
    levels = []
    for c in range(n_classes):
        mine = where[bounds[c] : bounds[c + 1]]
        class_levels, index = np.unique(flat[mine], return_inverse=True)
        rank[mine] = index
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
