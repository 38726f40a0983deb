"""Long recordings: the pairwise searches of the metrics grow linearly with a clip's length, values unchanged."""

import numpy as np
import pytest

from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals, expand_ranges
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import intersection_changes
from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_psds
from tbfl.evaluation.evaluate import PSDS2, evaluate_scores
from tbfl.evaluation.simulate import simulate_array_case
from tbfl.evaluation.validation import reference_events

HOP_S = 0.064


def long_clip(minutes, seed=0):
    """One clip of ``minutes`` at 64 ms, 6 classes, about 200 events an hour of 0.1-10 s."""
    n_frames = int(minutes * 60 / HOP_S)
    return simulate_array_case(1, 6, n_frames=n_frames, frame_hop_s=HOP_S, events_per_clip=200 * minutes / 60,
                               max_event_s=10.0, seed=seed)


def runs_and_truth(case):
    grid = ScoreGrid.from_scores(case.score_dict(), case.clip_ids, HOP_S)
    events = reference_events(case.events, case.classes)
    return detection_intervals(grid), GroundTruth.from_events(events, case.clip_ids, case.classes)


def every_pair(truth, rows=None, clips=None):
    """Every (item, event) pair of an item's row (or of its clip, any class): what used to be compared."""
    first = truth.row_start[rows] if clips is None else truth.row_start[clips * truth.n_classes]
    stop = truth.row_start[rows + 1] if clips is None else truth.row_start[(clips + 1) * truth.n_classes]
    return expand_ranges(first, stop - first)


def test_pairs_compared_grow_linearly_with_the_clip_length():
    counts = {}
    for minutes in (10, 20):
        intervals, truth = runs_and_truth(long_clip(minutes))
        _, near = truth.events_near(intervals.row, intervals.onset_s, intervals.offset_s)
        _, clip_near = truth.clip_events_near(intervals.clip, intervals.onset_s, intervals.offset_s)
        _, every_event_of_row = every_pair(truth, rows=intervals.row)
        counts[minutes] = (near.sum(), clip_near.sum(), len(every_event_of_row), len(intervals.row))
    runs_ratio = counts[20][3] / counts[10][3]
    assert 1.8 < runs_ratio < 2.2
    # What used to be compared (every event of the row) doubles twice; what is compared now doubles once.
    assert counts[20][2] / counts[10][2] > 1.8 * runs_ratio
    assert counts[20][0] / counts[10][0] < 1.2 * runs_ratio
    assert counts[20][1] / counts[10][1] < 1.2 * runs_ratio


def test_the_events_near_a_run_hold_every_event_it_overlaps():
    intervals, truth = runs_and_truth(long_clip(5, seed=3))
    item, event = every_pair(truth, rows=intervals.row)
    overlap = np.minimum(intervals.offset_s[item], truth.offset_s[event]) - np.maximum(intervals.onset_s[item], truth.onset_s[event])
    first, count = truth.events_near(intervals.row, intervals.onset_s, intervals.offset_s)
    touching = overlap > 0
    assert np.all((event[touching] >= first[item[touching]]) & (event[touching] < first[item[touching]] + count[item[touching]]))
    # Across classes: the clip's events in onset order.
    first, count = truth.clip_events_near(intervals.clip, intervals.onset_s, intervals.offset_s)
    owner, position = expand_ranges(first, count)
    found = set(zip(owner.tolist(), truth.clip_order[position].tolist()))
    item, event = every_pair(truth, clips=intervals.clip)
    overlap = np.minimum(intervals.offset_s[item], truth.offset_s[event]) - np.maximum(intervals.onset_s[item], truth.onset_s[event])
    assert set(zip(item[overlap > 0].tolist(), event[overlap > 0].tolist())) <= found


def test_counts_do_not_depend_on_the_chunk_of_pairs():
    intervals, truth = runs_and_truth(long_clip(5, seed=1))
    classes = tuple(f"class{c:03d}" for c in range(6))
    whole = intersection_changes(intervals, truth, classes, dtc=0.1, gtc=0.1, cttc=0.3)
    chunked = intersection_changes(intervals, truth, classes, dtc=0.1, gtc=0.1, cttc=0.3, pairs_per_chunk=5)
    for name in ("label", "stat", "rank", "delta", "clip"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))


def test_a_long_clip_matches_sed_scores_eval():
    case = long_clip(4, seed=2)
    result = evaluate_scores(case.score_dict(), case.events, case.durations, case.classes, frame_hop_s=HOP_S,
                             median_filter_s=0.0)
    value, per_class = sed_scores_eval_psds(
        case.score_dict(), case.events, case.durations, case.classes, HOP_S, dtc=PSDS2.dtc, gtc=PSDS2.gtc,
        cttc=PSDS2.cttc, alpha_ct=PSDS2.alpha_ct, alpha_st=PSDS2.alpha_st, max_efpr=PSDS2.max_efpr)
    assert result.psds2_threshold_free.value == pytest.approx(value, abs=1e-12)
    assert result.psds2_threshold_free.per_class == pytest.approx([per_class[c] for c in case.classes], abs=1e-12)
