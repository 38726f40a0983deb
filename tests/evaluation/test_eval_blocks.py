"""evaluate_scores class block by class block == in one block: every field of to_dict(), with every post-processing and the bootstrap."""

import math

import numpy as np
import pytest

from tbfl.evaluation.bootstrap import resampled_clip_weights, resampled_reference
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import efpr_floor, intersection_changes
from tbfl.evaluation.postprocessing.sebb import SebbParams
from tbfl.evaluation.settings import DEFAULT_THRESHOLDS, PSDS2
from tbfl.evaluation.simulate import simulate_array_case
from tbfl.evaluation.postprocessing.params import PostprocessParams
from tbfl.evaluation.validation import reference_events

ONE_BLOCK = 1 << 30


def assert_same(blocked, single, path="result"):
    """Nested dicts equal: floats within 1e-12, everything else exactly."""
    if isinstance(single, dict):
        assert blocked.keys() == single.keys(), path
        for key in single:
            assert_same(blocked[key], single[key], f"{path}/{key}")
    elif isinstance(single, (list, tuple)):
        assert len(blocked) == len(single), path
        for i, (b, s) in enumerate(zip(blocked, single)):
            assert_same(b, s, f"{path}[{i}]")
    elif isinstance(single, float):
        assert math.isclose(blocked, single, rel_tol=0, abs_tol=1e-12), (path, blocked, single)
    else:
        assert blocked == single, (path, blocked, single)


def evaluated(case, frames_per_block, **options):
    return evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                           frames_per_block=frames_per_block, **options).to_dict()


def blocks_of(case, classes_per_block):
    """frames_per_block that gives ``classes_per_block`` classes a block."""
    return classes_per_block * len(case.scores) * (max(v.shape[1] for v in case.scores.values()) + 2)


def tuned_params(case, seed, *, sebb):
    """Per-class median filters and thresholds (and SEBBs), drawn at random."""
    rng = np.random.default_rng(seed)
    n_classes = len(case.classes)
    params = None if not sebb else tuple(
        SebbParams(int(rng.choice([4, 6, 8])), float(rng.choice([0.15, 0.2, 0.3])), float(rng.choice([1.5, 2.0, 3.0])),
                   "max" if c % 2 else "mean") for c in range(n_classes))
    return PostprocessParams(
        case.classes, tuple(int(n) for n in rng.choice([1, 3, 5, 7], n_classes)), case.frame_hop_s, "psds1", (), sebb=params,
        thresholds=tuple(float(t) for t in rng.choice(np.append(DEFAULT_THRESHOLDS, [0.42, 0.25]), n_classes)),
    )


@pytest.mark.parametrize("case_index", range(3))
@pytest.mark.parametrize("median_filter_s", [0.0, 0.45])
def test_blocks_give_every_value_of_one_block(random_cases, case_index, median_filter_s):
    case = random_cases[case_index]
    single = evaluated(case, ONE_BLOCK, median_filter_s=median_filter_s)
    for classes_per_block in (1, 3):
        assert_same(evaluated(case, blocks_of(case, classes_per_block), median_filter_s=median_filter_s), single)


@pytest.mark.parametrize("sebb", [False, True], ids=["median", "sebb"])
def test_blocks_with_tuned_postprocessing_and_per_class_thresholds(random_cases, sebb):
    for seed, case in enumerate(random_cases[:2]):
        params = tuned_params(case, seed, sebb=sebb)
        single = evaluated(case, ONE_BLOCK, postprocess=params)
        assert "event_f1_tuned_thresholds" in single
        assert_same(evaluated(case, 1, postprocess=params), single)
        assert_same(evaluated(case, blocks_of(case, 4), postprocess=params), single)


def test_blocks_give_the_bootstrap_intervals_of_one_block(random_cases):
    case = random_cases[2]
    single = evaluated(case, ONE_BLOCK, bootstrap=15, bootstrap_seed=3)
    assert len(single["confidence_intervals"]) == 12  # 7, then error rates (2) and clip-based F1, ER, AUROC
    assert_same(evaluated(case, 1, bootstrap=15, bootstrap_seed=3), single)


def test_blocks_in_two_processes_give_every_value_of_one_process(random_cases):
    """jobs=2 forks two workers that evaluate the blocks; gathered in block order, every value is the same."""
    case = random_cases[2]
    options = dict(bootstrap=6, bootstrap_seed=2, segment_length_s=1.0, auroc_max_fpr=0.2, pipsds_filters_s=(0.0, 0.45),
                   pipsds_intervals=True)
    one = evaluated(case, blocks_of(case, 2), **options)
    two = evaluated(case, blocks_of(case, 2), jobs=2, **options)
    assert len(one["confidence_intervals"]) == 17  # every resampled metric, the segment-based family and piPSDS included
    assert one["pipsds2"] > 0
    assert two == one


@pytest.fixture(scope="module")
def array_case():
    """150 clips x 12 classes: enough clips without events that the eFPR floor prunes, also under resampling."""
    return simulate_array_case(150, 12, events_per_clip=4.0, seed=5)


def test_blocks_of_an_array_case_with_floors_and_bootstrap(array_case):
    a = array_case

    def run(frames_per_block, **options):
        return evaluate_scores(a.score_dict(), a.events, a.durations, a.classes, frame_hop_s=a.frame_hop_s,
                               median_filter_s=0.0, frames_per_block=frames_per_block, **options).to_dict()

    for options in ({}, {"bootstrap": 8, "bootstrap_seed": 1}):
        single = run(ONE_BLOCK, **options)
        assert_same(run(1, **options), single)
        assert_same(run(5 * 150 * 102, **options), single)
    float64 = {clip: values.astype(np.float64) for clip, values in a.score_dict().items()}
    again = evaluate_scores(float64, a.events, a.durations, a.classes, frame_hop_s=a.frame_hop_s, median_filter_s=0.0)
    assert again.to_dict() == run(ONE_BLOCK)  # float32 scores are read as float64, exactly


def test_the_resample_floor_prunes_only_points_beyond_max_efpr_in_every_resample(array_case):
    a = array_case
    grid = ScoreGrid.from_scores(a.score_dict(), a.clip_ids, a.frame_hop_s)
    reference = GroundTruth.from_events(reference_events(a.events, a.classes), a.clip_ids, a.classes)
    n_clips, n_classes = len(a.clip_ids), len(a.classes)
    duration_s = np.full(n_clips, 10.0)
    row_max = grid.values.reshape(n_clips, n_classes, -1).max(axis=2)
    has_events = np.diff(reference.row_start).reshape(n_clips, n_classes) > 0
    weights = resampled_clip_weights(n_clips, 6, seed=2)
    plain = efpr_floor(row_max, has_events, duration_s.sum(), 100.0)
    floor = efpr_floor(row_max, has_events, duration_s.sum(), 100.0, clip_weights=weights, clip_duration_s=duration_s)
    assert np.isfinite(floor).all() and (floor <= plain).all() and (floor < plain).any()
    changes = intersection_changes(detection_intervals(grid), reference, a.classes, dtc=PSDS2.dtc, gtc=PSDS2.gtc, cttc=PSDS2.cttc)
    reference_counts = resampled_reference(changes.ref_clip * n_classes + changes.ref_label, changes.ref_length_s, n_classes, weights)
    for c, curve in enumerate(changes.accumulate_resamples(weights, *reference_counts)):
        below = np.append(curve.change_points, np.inf) <= floor[c]  # rows for thresholds below the floor
        assert np.all(curve.fp[:, below] / (weights @ duration_s)[:, None] * 3600 > 100.0)


def test_runs_above_a_floor_are_those_searched_above_it():
    rng = np.random.default_rng(3)
    scores = {f"c{i}": rng.integers(0, 8, size=(3, n)) / 7 for i, n in enumerate(rng.integers(1, 30, size=11))}
    grid = ScoreGrid.from_scores(scores, tuple(scores), 0.1)
    low, high = np.array([0.2, -np.inf, 0.5]), np.array([0.5, 0.3, 0.4])
    lifted = detection_intervals(grid, floor=low).above(high)
    direct = detection_intervals(grid, floor=np.maximum(low, high))
    for name in ("row", "on_frame", "off_frame", "birth", "death", "birth_rank", "death_rank", "floor"):
        assert np.array_equal(getattr(lifted, name), getattr(direct, name)), name
    assert all(np.array_equal(x, y) for x, y in zip(lifted.levels, direct.levels))


def test_class_block_of_the_reference_is_the_reference_of_those_classes(random_cases):
    case = random_cases[0]
    clip_ids = tuple(sorted(case.durations))
    events = reference_events(case.events, case.classes)
    block = GroundTruth.from_events(events, clip_ids, case.classes).class_block(3, 7)
    direct = GroundTruth.from_events(events[events["event_label"].isin(case.classes[3:7])], clip_ids, case.classes[3:7])
    for name in ("row", "onset_s", "offset_s", "row_start"):
        assert np.array_equal(getattr(block, name), getattr(direct, name)), name


def test_clip_counts_sum_to_the_curves(random_cases):
    case = random_cases[1]
    clip_ids = tuple(sorted(case.durations))
    grid = ScoreGrid.from_scores(case.scores, clip_ids, case.frame_hop_s)
    reference = GroundTruth.from_events(reference_events(case.events, case.classes), clip_ids, case.classes)
    changes = intersection_changes(detection_intervals(grid), reference, case.classes, dtc=0.5, gtc=0.5)
    n_classes = len(case.classes)
    weights = np.vstack([np.ones(len(clip_ids), dtype=np.int64), resampled_clip_weights(len(clip_ids), 2, seed=1)])
    curves = changes.accumulate_resamples(
        weights, *resampled_reference(changes.ref_clip * n_classes + changes.ref_label, changes.ref_length_s, n_classes, weights))
    whole_tp, whole_fp, _ = changes.accumulate().at(np.array([0.1, 0.5, 0.83]))
    for k, threshold in enumerate((0.1, 0.5, 0.83)):
        tp, fp = changes.clip_counts(threshold, len(clip_ids))
        assert np.array_equal(tp.sum(axis=0), whole_tp[k]) and np.array_equal(fp.sum(axis=0), whole_fp[k])
        for c, curve in enumerate(curves):
            row = np.searchsorted(curve.change_points, threshold, side="right")
            assert np.array_equal(weights @ tp[:, c], curve.tp[:, row]) and np.array_equal(weights @ fp[:, c], curve.fp[:, row])


def test_a_large_bootstrap_names_the_memory_it_keeps(random_cases, monkeypatch):
    from tbfl.evaluation import blocks

    case = random_cases[0]
    expected = blocks.bootstrap_bytes(3, 51, 10, len(case.events)) / 2**30
    monkeypatch.setattr(blocks, "BOOTSTRAP_WARN_BYTES", 1000)
    with pytest.warns(UserWarning, match=rf"bootstrap=3 keeps .* 10 classes .* up to {expected:.1f} GB"):
        evaluated(case, ONE_BLOCK, bootstrap=3)
