"""evaluate_psds (classes a block at a time, frames below the eFPR floor skipped) == evaluate_scores (all at once)."""

import numpy as np
import pytest

from tbfl.evaluation.evaluate import PSDS1, PSDS2, PsdsSettings, evaluate_psds, evaluate_scores
from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import efpr_floor, intersection_changes, psds_threshold_free
from tbfl.evaluation.simulate import simulate_array_case
from tbfl.evaluation.validation import reference_events

NAMES = ("psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free")


@pytest.fixture(scope="module")
def case():
    """70 clips x 7 classes: class 3 has no reference events, about 10 clips have none."""
    full = simulate_array_case(70, 7, events_per_clip=2.0, seed=4)
    events = full.events[full.events["event_label"] != full.classes[3]].reset_index(drop=True)
    case = type(full)(full.clip_ids, full.scores, events, full.classes, full.frame_hop_s)
    silent = set(case.clip_ids) - {f[:-4] for f in events["filename"]}
    assert len(silent) >= 5
    return case


@pytest.fixture(scope="module")
def unchunked(case):
    return {
        filter_s: evaluate_scores(case.score_dict(), case.events, case.durations, case.classes,
                                  frame_hop_s=case.frame_hop_s, median_filter_s=filter_s)
        for filter_s in (0.0, 0.45)
    }


@pytest.mark.parametrize(("classes_per_block", "median_filter_s"), [(1, 0.0), (3, 0.0), (4, 0.45), (7, 0.45)])
def test_blocks_give_the_values_of_one_pass(case, unchunked, classes_per_block, median_filter_s):
    frames_per_block = classes_per_block * len(case.clip_ids) * (case.scores.shape[2] + 2)
    lean = evaluate_psds(case.score_dict(), case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                         median_filter_s=median_filter_s, frames_per_block=frames_per_block)
    full = unchunked[median_filter_s]
    for name in NAMES:
        assert lean[name].value == pytest.approx(getattr(full, name).value, abs=1e-12), name
        assert np.allclose(lean[name].per_class, getattr(full, name).per_class, atol=1e-12, rtol=0), name
    assert lean["psds2_threshold_free"].per_class[3] == 0 and 0 < lean["psds2_threshold_free"].value < 1


def grid_and_reference(case):
    grid = ScoreGrid.from_scores(case.score_dict(), case.clip_ids, case.frame_hop_s)
    reference = GroundTruth.from_events(reference_events(case.events, case.classes), case.clip_ids, case.classes)
    return grid, reference


def floor_of(case, grid, reference):
    n_clips, n_classes = len(case.clip_ids), len(case.classes)
    row_max = grid.values.reshape(n_clips, n_classes, -1).max(axis=2)
    has_events = np.diff(reference.row_start).reshape(n_clips, n_classes) > 0
    return efpr_floor(row_max, has_events, 10.0 * n_clips, 100.0)


def test_the_floor_prunes_only_operating_points_beyond_max_efpr(case):
    grid, reference = grid_and_reference(case)
    floor = floor_of(case, grid, reference)
    assert np.isfinite(floor).all()
    everything = detection_intervals(grid)
    pruned = detection_intervals(grid, floor=floor)
    assert len(pruned.row) < len(everything.row) / 3
    total_s = 10.0 * len(case.clip_ids)
    for scenario in (PSDS1, PSDS2):
        curves = intersection_changes(everything, reference, case.classes, dtc=scenario.dtc, gtc=scenario.gtc,
                                      cttc=scenario.cttc).accumulate()
        for c in range(len(case.classes)):
            below = np.append(curves.change_points[c], np.inf) <= floor[c]  # rows for thresholds below the floor
            assert np.all(curves.fp[c][below] / total_s * 3600 > scenario.max_efpr)


def test_floored_runs_are_the_runs_above_the_floor():
    rng = np.random.default_rng(8)
    scores = {f"c{i}": rng.integers(0, 6, size=(2, n)) / 5 for i, n in enumerate(rng.integers(1, 30, size=9))}
    grid = ScoreGrid.from_scores(scores, tuple(scores), 0.1)
    floor = np.array([0.3, 0.6])
    everything, pruned = detection_intervals(grid), detection_intervals(grid, floor=floor)
    kept = everything.birth > floor[everything.label]
    death = np.where(everything.death > floor[everything.label], everything.death, -np.inf)
    expected = set(zip(everything.row[kept], everything.on_frame[kept], everything.off_frame[kept], death[kept]))
    assert set(zip(pruned.row, pruned.on_frame, pruned.off_frame, pruned.death)) == expected
    for c in range(2):
        mine = pruned.label == c
        assert np.array_equal(pruned.levels[c][pruned.birth_rank[mine]], pruned.birth[mine])


def test_curves_of_a_class_subset_are_those_of_all_classes(case):
    grid, reference = grid_and_reference(case)
    changes = intersection_changes(detection_intervals(grid), reference, case.classes, dtc=0.1, gtc=0.1, cttc=0.3)
    every, some = changes.accumulate(), changes.accumulate(classes=np.array([2, 3, 5]))
    assert some.classes == tuple(case.classes[c] for c in (2, 3, 5))
    for i, c in enumerate((2, 3, 5)):
        for name in ("change_points", "tp", "fp", "ct_rate"):
            assert np.array_equal(getattr(some, name)[i], getattr(every, name)[c])


def test_a_cross_trigger_needs_some_overlap():
    with pytest.raises(ValueError, match="cttc must be > 0"):
        PsdsSettings(dtc=0.1, gtc=0.1, cttc=0.0, alpha_ct=1.0, alpha_st=1.0)
