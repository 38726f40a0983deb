"""Collar-based counts (TP, outputs, references) at many thresholds in one pass.

A detection matches a reference event of its class and clip when

    |onset_det - onset_ref| <= onset_collar
    |offset_det - offset_ref| <= max(offset_collar, offset_collar_rate * length_ref)

with both sides compared after rounding the difference to ``time_decimals``
(1 µs by default), the rule of sed_scores_eval: a pair exactly on the 200 ms
collar matches. (sed_eval compares raw floats and loses some of those pairs;
it agrees with this rule when given a collar of 0.2 + 1e-6 s.) TP is the size
of a maximum one-to-one matching, sed_eval's ``event_matching_type='optimal'``.

Matching pairs are found once per detection run (they do not depend on the
threshold), spread to every threshold where the run is a detection, and one
Hopcroft-Karp matching over the block-diagonal graph of all thresholds
gives every TP count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from tbfl.evaluation.metrics.detections import Intervals, expand_ranges
from tbfl.evaluation.metrics.fscore import FScoreSweep
from tbfl.evaluation.metrics.ground_truth import GroundTruth


@dataclass(frozen=True)
class CollarClipCounts:
    """Collar-based counts kept per clip: ``tp``, ``n_sys`` (n_clips, K, C), ``n_ref`` (n_clips, C).

    A matching never joins two clips, so a clip's TP is its own; a resample of
    clips sums these counts with its clip weights
    (:func:`~tbfl.evaluation.bootstrap.resampled_counts`).
    """

    classes: tuple[str, ...]
    thresholds: np.ndarray
    tp: np.ndarray
    n_sys: np.ndarray
    n_ref: np.ndarray

    def accumulate(self) -> FScoreSweep:
        """The sweep of all clips: the counts summed over clips."""
        return FScoreSweep(self.classes, self.thresholds, self.tp.sum(axis=0), self.n_sys.sum(axis=0), self.n_ref.sum(axis=0))


def collar_clip_counts(
    intervals: Intervals,
    ground_truth: GroundTruth,
    classes: tuple[str, ...],
    thresholds: np.ndarray,
    *,
    onset_collar_s: float = 0.2,
    offset_collar_s: float = 0.2,
    offset_collar_rate: float = 0.2,
    time_decimals: int = 6,
) -> CollarClipCounts:
    """Event-based TP, output and reference counts of each clip at each of the ascending ``thresholds`` (K,)."""
    thresholds = np.asarray(thresholds, dtype=np.float64)
    n_classes, n_thresholds = len(classes), len(thresholds)
    n_clips = (len(ground_truth.row_start) - 1) // n_classes
    owner, k, matched = _matches(intervals, ground_truth, thresholds, onset_collar_s, offset_collar_s, offset_collar_rate, time_decimals)
    cell = (intervals.clip[owner] * n_thresholds + k) * n_classes + intervals.label[owner]
    shape = (n_clips, n_thresholds, n_classes)
    return CollarClipCounts(
        tuple(classes), thresholds,
        np.bincount(cell[matched], minlength=np.prod(shape)).reshape(shape),
        np.bincount(cell, minlength=np.prod(shape)).reshape(shape),
        np.bincount(ground_truth.row, minlength=n_clips * n_classes).reshape(n_clips, n_classes),
    )


def collar_counts(intervals: Intervals, ground_truth: GroundTruth, classes: tuple[str, ...], thresholds: np.ndarray, **collars) -> FScoreSweep:
    """Event-based TP, output and reference counts at each of the ascending ``thresholds`` (K,);
    ``collars`` as :func:`collar_clip_counts`."""
    return collar_clip_counts(intervals, ground_truth, classes, thresholds, **collars).accumulate()


def _matches(intervals, ground_truth, thresholds, onset_collar_s, offset_collar_s, offset_collar_rate, time_decimals):
    """Every detection at every threshold as (run index ``owner``, threshold index ``k``), and which are matched TPs."""
    first, count = intervals.alive_at(thresholds)
    detection_start = np.cumsum(count) - count
    owner, k = expand_ranges(first, count)
    # Only events whose onset is within the onset collar (and a rounding margin) can match.
    alive = np.flatnonzero(count > 0)
    margin_s = onset_collar_s + 2 * 10.0**-time_decimals
    near_first, near_count = ground_truth.onsets_within(
        intervals.row[alive], intervals.onset_s[alive] - margin_s, intervals.onset_s[alive] + margin_s)
    item, event = expand_ranges(near_first, near_count)
    item = alive[item]
    hit = _within_collars(
        intervals.onset_s[item], intervals.offset_s[item], ground_truth.onset_s[event], ground_truth.offset_s[event],
        onset_collar_s, offset_collar_s, offset_collar_rate, time_decimals,
    )
    item, event = item[hit], event[hit]
    hit_index, hit_k = expand_ranges(first[item], count[item])
    detection_node = detection_start[item[hit_index]] + hit_k - first[item[hit_index]]
    reference_node = hit_k * len(ground_truth.row) + event[hit_index]
    return owner, k, _maximum_matching(detection_node, reference_node)


def _within_collars(det_on, det_off, ref_on, ref_off, onset_collar, offset_collar, offset_rate, decimals):
    onset_ok = np.round(np.abs(det_on - ref_on) - onset_collar, decimals) <= 0
    offset_collars = np.maximum(offset_collar, offset_rate * (ref_off - ref_on))
    offset_ok = np.round(np.abs(det_off - ref_off) - offset_collars, decimals) <= 0
    return onset_ok & offset_ok


def _maximum_matching(detection_node: np.ndarray, reference_node: np.ndarray) -> np.ndarray:
    """Detection nodes matched by a maximum bipartite matching of the given edges (unique node ids)."""
    if len(detection_node) == 0:
        return detection_node
    detections, row = np.unique(detection_node, return_inverse=True)
    _, column = np.unique(reference_node, return_inverse=True)
    graph = csr_matrix((np.ones(len(row), dtype=np.int8), (row, column)), shape=(len(detections), column.max() + 1))
    match = maximum_bipartite_matching(graph, perm_type="column")
    return detections[match >= 0]
