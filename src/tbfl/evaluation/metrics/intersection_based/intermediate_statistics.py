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

Overlaps are sums over (run, reference event) pairs: the events of the run's
own row for the DTC and GTC, the events of the other classes in its clip for
the CTTC. A run meets no other event, and only events whose onset lies
within the longest event's length before the run's start (and not after its
end) can overlap it, so the pairs compared grow with the runs times the
events *near* them: linearly in a clip's length, not with its square (a
one-hour recording has hundreds of events). They are compared a bounded
chunk at a time, and only overlapping pairs are kept.

Relevance and cross-triggering are properties of a detection run alone, so
each run adds +1 at its birth score and -1 at its death score. The coverage
of a reference event is a sum over the runs alive at a threshold, so it is
tracked per event through the births and deaths of the relevant runs that
overlap it. Summing these changes from the highest score down gives every
count at every threshold.

Cross-triggers enter PSDS only through the eFPR term ``mean_j(CT_j / T_j)``
over the other classes j with reference events (T_j: their summed length).
The sum keeps that one rate per threshold (``ct_rate``), not a count per
(threshold, other class): for hundreds of classes such a table per class
holds billions of numbers, which is where sed_scores_eval's memory goes on
AudioSet-strong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scipy import sparse

from tbfl.evaluation.metrics.detections import Intervals, range_chunks
from tbfl.evaluation.metrics.ground_truth import GroundTruth

_TP, _FP, _CT = 0, 1, 2
#: (run, reference event) pairs compared at once (about 100 bytes a pair).
PAIRS_PER_CHUNK = 1 << 21


@dataclass(frozen=True)
class IntersectionCurves:
    """Counts of some classes as step functions of the threshold.

    For ``classes[i]``, ``change_points[i]`` (m,) are ascending scores; entry
    ``j`` of ``tp[i]``, ``fp[i]`` and ``ct_rate[i]`` (m + 1,) holds the value
    when the threshold lies in ``[change_points[i][j - 1], change_points[i][j])``
    (score > threshold); the last entry (threshold above every score) is 0.
    ``ct_rate`` is the cross-trigger rate of eFPR: the mean, over the other
    classes j with reference events, of CT_j / T_j (per second), or 0 without
    cross-triggers. ``n_ref`` counts reference events, ``ref_length_s`` sums
    their lengths. Values are exact at thresholds ``>= floor[i]`` only (see
    :class:`~tbfl.evaluation.metrics.detections.Intervals`); all arrays with a
    class axis are (len(classes),).
    """

    classes: tuple[str, ...]
    change_points: tuple[np.ndarray, ...]
    tp: tuple[np.ndarray, ...]
    fp: tuple[np.ndarray, ...]
    ct_rate: tuple[np.ndarray, ...]
    n_ref: np.ndarray
    ref_length_s: np.ndarray
    floor: np.ndarray

    def at(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values at each threshold (K,): ``tp``, ``fp``, ``ct_rate``, each (K, C)."""
        thresholds = np.asarray(thresholds, dtype=np.float64)
        index = [np.searchsorted(points, thresholds, side="right") for points in self.change_points]
        return tuple(
            np.stack([values[i] for values, i in zip(column, index)], axis=1).reshape(len(thresholds), len(self.classes))
            for column in (self.tp, self.fp, self.ct_rate)
        )


@dataclass(frozen=True)
class ResampledCurve:
    """One class's counts on each of R resamples, as :class:`IntersectionCurves` holds them for one clip set.

    ``change_points`` (m,) ascending scores (shared by the resamples; values may repeat between them);
    ``tp``, ``fp`` (R, m + 1) whole numbers as float64 and ``ct_rate`` (R, m + 1); ``n_ref`` (R,); ``floor`` as
    :attr:`IntersectionCurves.floor`.
    """

    change_points: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    ct_rate: np.ndarray
    n_ref: np.ndarray
    floor: float


@dataclass(frozen=True)
class IntersectionChanges:
    """Every count change of :func:`intersection_curves` before summing, with the clip it comes from.

    ``label, stat, rank, delta, clip`` (n,): class, statistic (TP, FP, CT + other
    class), score rank, +-1 and clip index of each change; ``ref_label, ref_clip,
    ref_length_s`` (n_events,) describe the reference events (of every class).
    Summing them gives the curves (:meth:`accumulate`); summing with clip
    weights gives those of resampled clip sets (:meth:`accumulate_resamples`). ``floor`` (C,) as :attr:`IntersectionCurves.floor`.
    """

    classes: tuple[str, ...]
    levels: tuple[np.ndarray, ...]
    floor: np.ndarray
    label: np.ndarray
    stat: np.ndarray
    rank: np.ndarray
    delta: np.ndarray
    clip: np.ndarray
    ref_label: np.ndarray
    ref_clip: np.ndarray
    ref_length_s: np.ndarray

    def accumulate(self, classes: np.ndarray | None = None) -> IntersectionCurves:
        """The curves of ``classes`` (indices, default all), each clip counted once."""
        return _accumulate(self, classes)

    def accumulate_resamples(
        self, clip_weights: np.ndarray, n_ref: np.ndarray, ref_length_s: np.ndarray, classes: np.ndarray | None = None,
    ) -> list[ResampledCurve]:
        """:meth:`accumulate` with each clip counted ``clip_weights[r, clip]`` times, for every row r of
        ``clip_weights`` (R, n_clips) at once: one curve per class of ``classes``.

        ``n_ref`` and ``ref_length_s`` (R, C) are each resample's reference counts and summed lengths (of all
        classes: the cross-trigger rate reads the other classes'), computed once for all blocks by the caller.
        Each class's changes are summed for all resamples in one sparse product; a curve keeps every score
        where some change lies (values may repeat between them: the same step function).
        """
        return _accumulate_resamples(self, clip_weights, n_ref, ref_length_s, classes)

    def clip_counts(self, threshold: float, n_clips: int) -> tuple[np.ndarray, np.ndarray]:
        """TP and FP of each clip and class at ``threshold`` (score > threshold): two (n_clips, C) int arrays.

        Counts add over clips: a resample's counts are ``clip_weights @ counts``, the
        values :meth:`accumulate_resamples` gives at ``threshold``, without summing every change again.
        """
        if np.any(threshold < np.asarray(self.floor)):
            raise ValueError("counts below the floor of the changes (they were computed for PSDS only)")
        n_classes = len(self.classes)
        # A change counts at the threshold when its score is above it.
        above = np.array([np.searchsorted(levels, threshold, side="right") for levels in self.levels], dtype=np.int64)
        counted = self.rank >= above[self.label]
        cell = self.clip * n_classes + self.label
        return tuple(
            np.rint(np.bincount(cell[counted & (self.stat == stat)], weights=self.delta[counted & (self.stat == stat)],
                                minlength=n_clips * n_classes)).astype(np.int64).reshape(n_clips, n_classes)
            for stat in (_TP, _FP)
        )


def intersection_curves(
    intervals: Intervals,
    ground_truth: GroundTruth,
    classes: tuple[str, ...],
    *,
    dtc: float,
    gtc: float,
    cttc: float | None = None,
    time_decimals: int = 6,
) -> IntersectionCurves:
    """Exact intersection-based counts of every class at every threshold; without ``cttc`` no cross-triggers."""
    return intersection_changes(
        intervals, ground_truth, classes, dtc=dtc, gtc=gtc, cttc=cttc, time_decimals=time_decimals,
    ).accumulate()


def intersection_changes(
    intervals: Intervals,
    ground_truth: GroundTruth,
    classes: tuple[str, ...],
    *,
    dtc: float,
    gtc: float,
    cttc: float | None = None,
    time_decimals: int = 6,
    pairs_per_chunk: int = PAIRS_PER_CHUNK,
) -> IntersectionChanges:
    """The count changes behind :func:`intersection_curves` (same arguments).

    ``intervals`` and ``ground_truth`` share the clip and class numbering of ``classes``.
    (run, event) pairs are compared ``pairs_per_chunk`` at a time (bounds the memory; the
    result does not depend on it).
    """
    if cttc is not None and not cttc > 0:
        raise ValueError(f"cttc must be > 0 (a cross-trigger needs some overlap), got {cttc}")
    length_s = intervals.offset_s - intervals.onset_s
    item, event, overlap, own_overlap = _own_overlaps(intervals, ground_truth, pairs_per_chunk)
    relevant = _at_least(own_overlap, dtc * length_s, time_decimals)
    irrelevant = np.flatnonzero(~relevant)

    changes = [_run_events(irrelevant, intervals, _FP)]
    if cttc is not None:
        run, other = _cross_triggers(irrelevant, intervals, ground_truth, cttc * length_s[irrelevant], time_decimals,
                                     pairs_per_chunk)
        changes.append(_run_events(run, intervals, _CT + other))
    covering = relevant[item]
    changes.append(_coverage_events(item[covering], event[covering], overlap[covering], intervals, ground_truth, gtc, time_decimals))
    columns = [np.concatenate(column) for column in zip(*changes)]
    return IntersectionChanges(
        tuple(classes), intervals.levels, intervals.floor, *columns,
        ground_truth.label, ground_truth.row // ground_truth.n_classes, ground_truth.length_s,
    )


def _own_overlaps(intervals, ground_truth, pairs_per_chunk):
    """Every (run, reference event of its row) pair with a positive overlap: ``run, event, overlap`` (m,),
    and each run's summed overlap (n_runs,); only the events near a run are compared, a chunk at a time."""
    own_overlap = np.zeros(len(intervals.row))
    first, count = ground_truth.events_near(intervals.row, intervals.onset_s, intervals.offset_s)
    kept = []
    for item, event in range_chunks(first, count, pairs_per_chunk):
        overlap = _overlap(intervals, item, ground_truth, event)
        positive = overlap > 0
        item, event, overlap = item[positive], event[positive], overlap[positive]
        if len(item):
            own_overlap[item[0] : item[-1] + 1] += np.bincount(item - item[0], weights=overlap)
        kept.append((item, event, overlap))
    if not kept:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), own_overlap
    return (*(np.concatenate(column) for column in zip(*kept)), own_overlap)


def _overlap(intervals, run, ground_truth, event):
    """Overlap (s, may be negative) of each run ``run[i]`` with reference event ``event[i]``."""
    return np.minimum(intervals.offset_s[run], ground_truth.offset_s[event]) - np.maximum(
        intervals.onset_s[run], ground_truth.onset_s[event]
    )


def _at_least(value, bound, decimals):
    return np.round(value, decimals) >= np.round(bound, decimals)


def _cross_triggers(irrelevant, intervals, ground_truth, tolerance_s, decimals, pairs_per_chunk):
    """(run, other class) of every cross-trigger: the run's overlap with the other class's events >= ``tolerance_s``.

    ``tolerance_s`` (len(irrelevant),) is cttc times each run's length; only
    classes the run overlaps can meet it (cttc > 0), so only the events of its
    clip near it are compared, a chunk of pairs at a time.
    """
    n_classes = intervals.n_classes
    first, count = ground_truth.clip_events_near(
        intervals.clip[irrelevant], intervals.onset_s[irrelevant], intervals.offset_s[irrelevant])
    runs, others = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for item, position in range_chunks(first, count, pairs_per_chunk):
        event = ground_truth.clip_order[position]
        other = ground_truth.label[event]
        overlap = _overlap(intervals, irrelevant[item], ground_truth, event)
        meets = (overlap > 0) & (other != intervals.label[irrelevant[item]])
        # Sum the overlap of each (run, other class).
        pair, group = np.unique(item[meets] * n_classes + other[meets], return_inverse=True)
        summed = np.bincount(group, weights=overlap[meets], minlength=len(pair))
        item, other = pair // n_classes, pair % n_classes
        crosses = _at_least(summed, tolerance_s[item], decimals)
        runs.append(irrelevant[item[crosses]])
        others.append(other[crosses])
    return np.concatenate(runs), np.concatenate(others)


def _run_events(which, intervals, stat):
    """+1 at the birth and -1 at the (finite) death of each run in ``which``, for statistic ``stat`` (one or per run)."""
    stat = np.broadcast_to(stat, which.shape)
    death_rank = intervals.death_rank[which]
    mortal = death_rank >= 0
    label, clip = intervals.label[which], intervals.clip[which]
    return (
        np.concatenate([label, label[mortal]]),
        np.concatenate([stat, stat[mortal]]),
        np.concatenate([intervals.birth_rank[which], death_rank[mortal]]),
        np.concatenate([np.ones(len(which), np.int64), -np.ones(mortal.sum(), np.int64)]),
        np.concatenate([clip, clip[mortal]]),
    )


def _coverage_events(run, event, overlap, intervals, ground_truth, gtc, decimals):
    """TP changes: each reference event's coverage by the relevant runs ``run`` overlapping it, from the top score down."""
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


def _accumulate(changes: IntersectionChanges, which: np.ndarray | None) -> IntersectionCurves:
    """Sum the (class, statistic, score rank, delta) changes from the highest score down, per class."""
    n_classes = len(changes.classes)
    which = np.arange(n_classes) if which is None else np.asarray(which, dtype=np.int64)
    n_ref = np.bincount(changes.ref_label, minlength=n_classes)
    ref_length_s = np.bincount(changes.ref_label, weights=changes.ref_length_s, minlength=n_classes)

    # A cross-trigger on class j adds 1 / (T_j * number of other classes with events) to the rate.
    value = changes.delta.astype(np.float64)
    cross = changes.stat >= _CT
    other = changes.stat[cross] - _CT
    has_ref = n_ref > 0
    n_others = has_ref.sum() - has_ref[changes.label[cross]]
    share = np.zeros(len(other))
    counted = has_ref[other]
    share[counted] = 1.0 / (ref_length_s[other[counted]] * n_others[counted])
    value[cross] *= share
    stat = np.minimum(changes.stat, _CT)

    order = np.argsort(changes.label.astype(np.int32), kind="stable")
    bounds = np.searchsorted(changes.label[order], np.arange(n_classes + 1))
    change_points, tp, fp, ct_rate = [], [], [], []
    for c in which:
        levels = changes.levels[c]
        mine = order[bounds[c] : bounds[c + 1]]
        table = np.bincount(changes.rank[mine] * 3 + stat[mine], weights=value[mine], minlength=len(levels) * 3)
        summed = np.zeros((len(levels) + 1, 3))
        summed[:-1] = np.cumsum(table.reshape(len(levels), 3)[::-1], axis=0)[::-1]
        summed[:, :_CT] = np.rint(summed[:, :_CT])
        # Keep only the scores where some value changes (and the all-off row).
        changed = np.append(np.any(summed[:-1] != summed[1:], axis=1), True)
        summed = summed[changed]
        change_points.append(levels[changed[:-1]])
        tp.append(summed[:, _TP].astype(np.int64))
        fp.append(summed[:, _FP].astype(np.int64))
        ct_rate.append(summed[:, _CT])
    return IntersectionCurves(
        tuple(changes.classes[c] for c in which), tuple(change_points), tuple(tp), tuple(fp), tuple(ct_rate),
        n_ref[which], ref_length_s[which], np.asarray(changes.floor, dtype=np.float64)[which],
    )


#: (clip and other class, resample) weights of the cross-trigger sums built at once (bounds memory: 8 bytes each).
VALUES_PER_CHUNK = 1 << 22


def _accumulate_resamples(changes, clip_weights, n_ref, ref_length_s, which) -> list[ResampledCurve]:
    """The resampled curve of each of the ``which`` classes (see :meth:`IntersectionChanges.accumulate_resamples`)."""
    n_resamples, n_clips = np.shape(clip_weights)
    n_classes = len(changes.classes)
    which = np.arange(n_classes) if which is None else np.asarray(which, dtype=np.int64)
    weights_t = np.ascontiguousarray(np.asarray(clip_weights, dtype=np.float64).T)  # (n_clips, R)
    has_ref = n_ref > 0
    inverse_length_t = np.ascontiguousarray(np.where(has_ref, 1.0 / np.where(has_ref, ref_length_s, 1.0), 0.0).T)  # (C, R)
    order = np.argsort(changes.label.astype(np.int32), kind="stable")
    bounds = np.searchsorted(changes.label[order], np.arange(n_classes + 1))
    floor = np.asarray(changes.floor, dtype=np.float64)
    per_class = []
    for c in which:
        mine = order[bounds[c] : bounds[c + 1]]
        points, position = np.unique(changes.rank[mine], return_inverse=True)
        stat, clip, delta = changes.stat[mine], changes.clip[mine], changes.delta[mine].astype(np.float64)
        m = len(points)
        counts = stat < _CT
        # table[stat, resample, point]: the weighted sum of the changes of that statistic at that score.
        table = np.empty((3, n_resamples, m))
        by_point = sparse.csr_matrix((delta[counts], (stat[counts] * m + position[counts], clip[counts])), shape=(2 * m, n_clips))
        table[:_CT] = (by_point @ weights_t).reshape(2, m, n_resamples).transpose(0, 2, 1)
        # A cross-trigger on class j in a clip weighs w[clip] / T_j on a resample: one weight row per (clip, j) pair.
        cross = ~counts
        pair, pair_of = np.unique(clip[cross] * n_classes + (stat[cross] - _CT), return_inverse=True)
        cross_delta, cross_position = delta[cross], position[cross]
        ct = np.zeros((m, n_resamples))
        pairs_per_chunk = max(1, VALUES_PER_CHUNK // n_resamples)
        for start in range(0, len(pair), pairs_per_chunk):
            part = pair[start : start + pairs_per_chunk]
            pair_weights = weights_t[part // n_classes] * inverse_length_t[part % n_classes]  # (pairs, R)
            inside = (pair_of >= start) & (pair_of < start + len(part))
            to_point = sparse.csr_matrix((cross_delta[inside], (cross_position[inside], pair_of[inside] - start)),
                                         shape=(m, len(part)))
            ct += to_point @ pair_weights
        table[_CT] = ct.T / np.maximum(has_ref.sum(axis=1) - has_ref[:, c], 1)[:, None]  # the other classes with events
        # Summed from the highest score down; the last column (threshold above every score) stays 0. TP and FP
        # are sums of whole numbers, exact in float64.
        summed = np.zeros((3, n_resamples, m + 1))
        np.cumsum(table[:, :, ::-1], axis=2, out=summed[:, :, -2::-1])
        per_class.append(ResampledCurve(changes.levels[c][points], summed[_TP], summed[_FP], summed[_CT], n_ref[:, c], float(floor[c])))
    return per_class
