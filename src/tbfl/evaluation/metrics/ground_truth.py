"""Ground-truth events as arrays aligned with a :class:`~.detections.ScoreGrid`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd



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

    def events_near(self, rows: np.ndarray, start_s: np.ndarray, stop_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The events of row ``rows[i]`` that can overlap ``[start_s[i], stop_s[i]]``: ``(first, count)``, each (n,).

        They are events ``first[i] : first[i] + count[i]`` (in this object's order): those whose onset lies
        in ``[start_s - L, stop_s]``, L the longest event of the row, a superset of the overlapping ones
        that grows with the events near an item, not with all the events of its row.
        """
        return self._near(self._rows, rows, start_s, stop_s)

    def clip_events_near(self, clips: np.ndarray, start_s: np.ndarray, stop_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`events_near` over the events of every class of clip ``clips[i]``; the events are
        ``clip_order[first[i] : first[i] + count[i]]``."""
        return self._near(self._clips, clips, start_s, stop_s)

    def onsets_within(self, rows: np.ndarray, low_s: np.ndarray, high_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The events of row ``rows[i]`` with onset in ``[low_s[i], high_s[i]]``: ``(first, count)`` as :meth:`events_near`."""
        return self._rows.within(rows, low_s, high_s)

    @property
    def clip_order(self) -> np.ndarray:
        """(n,) the events in (clip, onset) order, whatever their class."""
        return self._clips.order

    @cached_property
    def _rows(self) -> "_OnsetIndex":
        return _OnsetIndex(self.row, self.onset_s, self.offset_s, np.arange(len(self.row)))

    @cached_property
    def _clips(self) -> "_OnsetIndex":
        clip = self.row // self.n_classes
        order = np.lexsort((self.onset_s, clip))
        return _OnsetIndex(clip[order], self.onset_s[order], self.offset_s[order], order)

    @staticmethod
    def _near(index, groups, start_s, stop_s):
        longest_s = index.longest_s(groups)
        # The margin keeps every event whose float offset rounds past start_s (a superset is all that is needed).
        return index.within(groups, start_s - longest_s - 1e-6 * (1.0 + np.abs(start_s)), stop_s)

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


class _OnsetIndex:
    """Events sorted by (group, onset) for exact range searches by onset within a group.

    Onsets are replaced by their rank among all distinct onsets, so that a
    (group, onset) pair becomes one exact int64 key.
    """

    def __init__(self, group: np.ndarray, onset_s: np.ndarray, offset_s: np.ndarray, order: np.ndarray) -> None:
        self.order = order
        self.onsets_s = np.unique(onset_s)
        self.stride = len(self.onsets_s) + 1
        self.keys = group * self.stride + np.searchsorted(self.onsets_s, onset_s)
        n_groups = int(group.max()) + 1 if len(group) else 0
        self.longest_by_group = np.zeros(n_groups)
        np.maximum.at(self.longest_by_group, group, offset_s - onset_s)

    def longest_s(self, groups: np.ndarray) -> np.ndarray:
        inside = groups < len(self.longest_by_group)
        return np.where(inside, self.longest_by_group[np.where(inside, groups, 0)], 0.0)

    def within(self, groups, low_s, high_s):
        """``(first, count)``: positions (in this order) of the events of each group with onset in ``[low, high]``."""
        groups = np.asarray(groups, dtype=np.int64) * self.stride
        first = np.searchsorted(self.keys, groups + np.searchsorted(self.onsets_s, low_s, side="left"))
        stop = np.searchsorted(self.keys, groups + np.searchsorted(self.onsets_s, high_s, side="right"))
        return first, np.maximum(stop - first, 0)
