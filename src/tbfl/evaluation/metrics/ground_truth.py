"""Ground-truth events as arrays aligned with a :class:`~.detections.ScoreGrid`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tbfl.evaluation.metrics.detections import expand_ranges


@dataclass(frozen=True)
class GroundTruth:
    """Reference events of every evaluated clip, sorted by (clip, class, onset).

    Attributes:
        row: (n,) ``clip * n_classes + class``, the same row numbering as the score grid.
        onset_s, offset_s: (n,) event times in seconds.
        row_start: (n_clips * n_classes + 1,) events of row ``r`` are ``row_start[r]:row_start[r + 1]``.
        n_classes: number of classes C.
    """

    row: np.ndarray
    onset_s: np.ndarray
    offset_s: np.ndarray
    row_start: np.ndarray
    n_classes: int

    @classmethod
    def from_events(cls, events: pd.DataFrame, clip_ids: tuple[str, ...], classes: tuple[str, ...]) -> "GroundTruth":
        """Events with columns ``clip_id, onset, offset, event_label`` (clip ids and labels already validated)."""
        clip_index = pd.Index(clip_ids).get_indexer(events["clip_id"])
        label_index = pd.Index(classes).get_indexer(events["event_label"])
        row = clip_index * len(classes) + label_index
        onset_s = events["onset"].to_numpy(dtype=np.float64)
        offset_s = events["offset"].to_numpy(dtype=np.float64)
        order = np.lexsort((offset_s, onset_s, row))
        row_start = np.searchsorted(row[order], np.arange(len(clip_ids) * len(classes) + 1))
        return cls(row[order], onset_s[order], offset_s[order], row_start, len(classes))

    def class_block(self, first: int, stop: int) -> "GroundTruth":
        """The events of classes ``first:stop``, numbered as a grid of those classes only
        (row ``clip * (stop - first) + class - first``, as a ``ScoreGrid`` of that class block)."""
        n_classes = stop - first
        n_clips = (len(self.row_start) - 1) // self.n_classes
        label = self.label
        keep = (label >= first) & (label < stop)
        row = self.row[keep] // self.n_classes * n_classes + label[keep] - first
        row_start = np.searchsorted(row, np.arange(n_clips * n_classes + 1))
        return GroundTruth(row, self.onset_s[keep], self.offset_s[keep], row_start, n_classes)

    @property
    def label(self) -> np.ndarray:
        return self.row % self.n_classes

    @property
    def length_s(self) -> np.ndarray:
        return self.offset_s - self.onset_s

    def counts(self) -> np.ndarray:
        """(C,) number of events per class."""
        return np.bincount(self.label, minlength=self.n_classes)

    def total_length_s(self) -> np.ndarray:
        """(C,) summed event length per class in seconds."""
        return np.bincount(self.label, weights=self.length_s, minlength=self.n_classes)

    def pairs_with(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (item, event) pair where event ``event`` lies in row ``rows[item]``."""
        first = self.row_start[rows]
        return expand_ranges(first, self.row_start[rows + 1] - first)

    def pairs_in_clips(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (item, event) pair where event ``event`` (of any class) lies in clip ``clips[item]``.

        Pairs are grouped by item, events in (class, onset) order within a group.
        """
        first = self.row_start[clips * self.n_classes]
        return expand_ranges(first, self.row_start[(clips + 1) * self.n_classes] - first)

    def cumulative_overlap(self, boundaries_s: np.ndarray) -> np.ndarray:
        """(n_rows, n_boundaries) summed overlap of each row's events with ``[0, boundary]``, in seconds.

        ``boundaries_s`` is (n_boundaries,) for all clips or (n_clips, n_boundaries) per clip.

        The overlap of the span ``[b_i, b_j]`` with the events of a row is
        ``result[row, j] - result[row, i]``.
        """
        n_rows = len(self.row_start) - 1
        event_boundaries_s = boundaries_s[None, :] if boundaries_s.ndim == 1 else boundaries_s[self.row // self.n_classes]
        overlap = np.clip(event_boundaries_s - self.onset_s[:, None], 0.0, self.length_s[:, None])
        result = np.zeros((n_rows, boundaries_s.shape[-1]))
        np.add.at(result, self.row, overlap)
        return result
