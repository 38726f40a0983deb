"""Intersection-based counts (TP, FP, cross-triggers) at every threshold, exactly.

The criteria of Bilen et al. (ICASSP 2020), as psds_eval and sed_scores_eval:

- DTC: a detection is relevant when its summed overlap with reference events
  of its class is at least ``dtc * its length``; an irrelevant one is a FP.
- GTC: a reference event is detected (a TP) when its summed overlap with the
  relevant detections of its class is at least ``gtc * its length``.
- CTTC: an irrelevant detection of class c cross-triggers class j when its
  summed overlap with reference events of class j is at least ``cttc * its length``.

Both sides of each comparison are rounded to ``time_decimals`` (1 µs), the
rule of sed_scores_eval; psds_eval compares raw ratios and can differ from it
when an overlap is exactly on a criterion.

Relevance and cross-triggering are properties of a detection run alone, so
each run adds +1 at its birth score and -1 at its death score. The coverage
of a reference event is a sum over the runs alive at a threshold, so it is
tracked per event through the births and deaths of the relevant runs that
overlap it. Summing these changes from the highest score down gives every
count at every threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tbfl.evaluation.metrics.detections import Intervals
from tbfl.evaluation.metrics.ground_truth import GroundTruth

_TP, _FP, _CT = 0, 1, 2


@dataclass(frozen=True)
class IntersectionCurves:
    """Counts of every class as step functions of the threshold.

    For class c, ``change_points[c]`` (m,) are ascending scores; row ``j`` of
    ``tp[c]``, ``fp[c]`` (m + 1,) and ``ct[c]`` (m + 1, C) holds the counts
    when the threshold lies in ``[change_points[c][j - 1], change_points[c][j])``
    (score > threshold); the last row (threshold above every score) is 0.
    ``ct[c][:, j]`` counts cross-triggers of class c on class j.
    ``n_ref`` (C,) counts reference events, ``ref_length_s`` (C,) sums their lengths.
    """

    classes: tuple[str, ...]
    change_points: tuple[np.ndarray, ...]
    tp: tuple[np.ndarray, ...]
    fp: tuple[np.ndarray, ...]
    ct: tuple[np.ndarray, ...]
    n_ref: np.ndarray
    ref_length_s: np.ndarray

    def at(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Counts at each threshold (K,): ``tp`` (K, C), ``fp`` (K, C), ``ct`` (K, C, C)."""
        thresholds = np.asarray(thresholds, dtype=np.float64)
        index = [np.searchsorted(points, thresholds, side="right") for points in self.change_points]
        tp = np.stack([counts[i] for counts, i in zip(self.tp, index)], axis=1)
        fp = np.stack([counts[i] for counts, i in zip(self.fp, index)], axis=1)
        ct = np.stack([counts[i] for counts, i in zip(self.ct, index)], axis=1)
        return tp, fp, ct


@dataclass(frozen=True)
class IntersectionChanges:
    """Every count change of :func:`intersection_curves` before summing, with the clip it comes from.

    ``label, stat, rank, delta, clip`` (n,): class, statistic (TP, FP, CT + class),
    score rank, +-1 and clip index of each change; ``ref_label, ref_clip,
    ref_length_s`` (n_events,) describe the reference events. Summing with
    clip weights (:meth:`accumulate`) gives the counts of a resampled clip set.
    """

    classes: tuple[str, ...]
    levels: tuple[np.ndarray, ...]
    with_cross_triggers: bool
    label: np.ndarray
    stat: np.ndarray
    rank: np.ndarray
    delta: np.ndarray
    clip: np.ndarray
    ref_label: np.ndarray
    ref_clip: np.ndarray
    ref_length_s: np.ndarray

    def accumulate(self, clip_weights: np.ndarray | None = None) -> "IntersectionCurves":
        """The counts with each clip counted ``clip_weights[clip]`` times (default once)."""
        return _accumulate(self, clip_weights)


def intersection_curves(
    intervals: Intervals,
    ground_truth: GroundTruth,
    overlap_cumsum: np.ndarray,
    classes: tuple[str, ...],
    *,
    dtc: float,
    gtc: float,
    cttc: float | None = None,
    time_decimals: int = 6,
) -> IntersectionCurves:
    """Exact intersection-based counts of every class at every threshold.

    ``overlap_cumsum`` is ``ground_truth.cumulative_overlap(grid.boundaries_s())``;
    without ``cttc`` no cross-triggers are counted.
    """
    return intersection_changes(
        intervals, ground_truth, overlap_cumsum, classes, dtc=dtc, gtc=gtc, cttc=cttc, time_decimals=time_decimals,
    ).accumulate()


def intersection_changes(
    intervals: Intervals,
    ground_truth: GroundTruth,
    overlap_cumsum: np.ndarray,
    classes: tuple[str, ...],
    *,
    dtc: float,
    gtc: float,
    cttc: float | None = None,
    time_decimals: int = 6,
) -> IntersectionChanges:
    """The count changes behind :func:`intersection_curves` (same arguments)."""
    n_classes = len(classes)
    label = intervals.label
    length_s = intervals.offset_s - intervals.onset_s
    own_overlap = _overlap(overlap_cumsum, intervals, intervals.row)
    relevant = _at_least(own_overlap, dtc * length_s, time_decimals)

    events = [_run_events(np.flatnonzero(~relevant), intervals, _FP)]
    if cttc is not None:
        irrelevant = np.flatnonzero(~relevant)
        for other in range(n_classes):
            rows = intervals.row[irrelevant] - label[irrelevant] + other
            overlap = _overlap(overlap_cumsum, intervals, rows, irrelevant)
            crosses = _at_least(overlap, cttc * length_s[irrelevant], time_decimals) & (label[irrelevant] != other)
            events.append(_run_events(irrelevant[crosses], intervals, _CT + other))
    events.append(_coverage_events(np.flatnonzero(relevant), intervals, ground_truth, gtc, time_decimals))
    columns = [np.concatenate(column) for column in zip(*events)]
    return IntersectionChanges(
        tuple(classes), intervals.levels, cttc is not None, *columns,
        ground_truth.label, ground_truth.row // ground_truth.n_classes, ground_truth.length_s,
    )


def _overlap(overlap_cumsum, intervals, rows, which=slice(None)):
    """Summed overlap (s) of runs ``which`` with the reference events of ``rows``."""
    flat, start = overlap_cumsum.ravel(), rows * overlap_cumsum.shape[1]
    return flat.take(start + intervals.off_frame[which]) - flat.take(start + intervals.on_frame[which])


def _at_least(value, bound, decimals):
    return np.round(value, decimals) >= np.round(bound, decimals)


def _run_events(which, intervals, stat):
    """+1 at the birth and -1 at the (finite) death of each run in ``which``, for statistic ``stat``."""
    death_rank = intervals.death_rank[which]
    mortal = death_rank >= 0
    label, clip = intervals.label[which], intervals.clip[which]
    return (
        np.concatenate([label, label[mortal]]),
        np.full(len(which) + mortal.sum(), stat),
        np.concatenate([intervals.birth_rank[which], death_rank[mortal]]),
        np.concatenate([np.ones(len(which), np.int64), -np.ones(mortal.sum(), np.int64)]),
        np.concatenate([clip, clip[mortal]]),
    )


def _coverage_events(relevant, intervals, ground_truth, gtc, decimals):
    """TP changes: each reference event's coverage by relevant runs, followed from the top score down."""
    item, event = ground_truth.pairs_with(intervals.row[relevant])
    run = relevant[item]
    overlap = np.minimum(intervals.offset_s[run], ground_truth.offset_s[event]) - np.maximum(
        intervals.onset_s[run], ground_truth.onset_s[event]
    )
    overlapping = overlap > 0
    run, event, overlap = run[overlapping], event[overlapping], overlap[overlapping]
    mortal = intervals.death_rank[run] >= 0
    event = np.concatenate([event, event[mortal]])
    rank = np.concatenate([intervals.birth_rank[run], intervals.death_rank[run][mortal]])
    change = np.concatenate([overlap, -overlap[mortal]])

    order = np.lexsort((-rank, event))
    event, rank, change = event[order], rank[order], change[order]
    total = np.cumsum(change)
    event_first = np.searchsorted(event, event, side="left")
    coverage = total - np.where(event_first > 0, total[event_first - 1], 0.0)
    # Counts change only after the last change at a given (event, score).
    last = np.ones(len(event), dtype=bool)
    last[:-1] = (event[1:] != event[:-1]) | (rank[1:] != rank[:-1])
    event, rank, coverage = event[last], rank[last], coverage[last]
    detected = _at_least(coverage, gtc * ground_truth.length_s[event], decimals).astype(np.int64)
    previous = np.zeros_like(detected)
    previous[1:] = np.where(event[1:] == event[:-1], detected[:-1], 0)
    delta = detected - previous
    changed = delta != 0
    label = ground_truth.label[event[changed]]
    clip = ground_truth.row[event[changed]] // ground_truth.n_classes
    return label, np.full(changed.sum(), _TP), rank[changed], delta[changed], clip


def _accumulate(changes: IntersectionChanges, clip_weights: np.ndarray | None) -> IntersectionCurves:
    """Sum the (class, statistic, score rank, delta) changes from the highest score down, per class."""
    label, stat, rank, delta = changes.label, changes.stat, changes.rank, changes.delta
    ref_weight = np.ones(len(changes.ref_label))
    if clip_weights is not None:
        delta = delta * clip_weights[changes.clip]
        ref_weight = clip_weights[changes.ref_clip].astype(np.float64)
    n_classes = len(changes.classes)
    with_cross_triggers = changes.with_cross_triggers
    n_stats = _CT + n_classes if with_cross_triggers else _CT
    order = np.argsort(label.astype(np.int16), kind="stable")
    bounds = np.searchsorted(label[order], np.arange(n_classes + 1))
    change_points, tp, fp, ct = [], [], [], []
    for c, levels in enumerate(changes.levels):
        mine = order[bounds[c] : bounds[c + 1]]
        table = np.bincount(rank[mine] * n_stats + stat[mine], weights=delta[mine], minlength=len(levels) * n_stats)
        counts = np.zeros((len(levels) + 1, n_stats), dtype=np.int64)
        counts[:-1] = np.rint(np.cumsum(table.reshape(len(levels), n_stats)[::-1], axis=0)[::-1])
        # Keep only the scores where some count changes (and the all-off row).
        changed = np.append(np.any(counts[:-1] != counts[1:], axis=1), True)
        counts = counts[changed]
        change_points.append(levels[changed[:-1]])
        tp.append(counts[:, _TP])
        fp.append(counts[:, _FP])
        ct.append(counts[:, _CT:] if with_cross_triggers else np.zeros((len(counts), n_classes), dtype=np.int64))
    n_ref = np.rint(np.bincount(changes.ref_label, weights=ref_weight, minlength=n_classes)).astype(np.int64)
    ref_length_s = np.bincount(changes.ref_label, weights=changes.ref_length_s * ref_weight, minlength=n_classes)
    return IntersectionCurves(
        tuple(changes.classes), tuple(change_points), tuple(tp), tuple(fp), tuple(ct), n_ref, ref_length_s,
    )
