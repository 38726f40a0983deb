"""Detection runs over all thresholds == thresholding each distinct score directly."""

import numpy as np
import pytest

from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals, expand_ranges


def runs_at(scores: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    """Runs [first, stop) of frames with score >= threshold, by a direct scan."""
    active = np.concatenate([[0], (scores >= threshold).astype(int), [0]])
    step = np.diff(active)
    return set(zip(np.flatnonzero(step == 1).tolist(), np.flatnonzero(step == -1).tolist()))


@pytest.mark.parametrize("seed", range(4))
def test_runs_birth_and_death_match_direct_thresholding(seed):
    rng = np.random.default_rng(seed)
    # Ties (integer scores), plateaus and several clip lengths in one grid.
    scores = {
        f"c{i}": (rng.integers(0, 4, size=(3, n)).astype(float) if i % 2 else rng.random((3, n)))
        for i, n in enumerate(rng.integers(1, 40, size=12))
    }
    grid = ScoreGrid.from_scores(scores, tuple(scores), 0.1)
    runs = detection_intervals(grid)
    for clip_index, (clip, clip_scores) in enumerate(scores.items()):
        for label in range(3):
            x = clip_scores[label]
            mine = (runs.clip == clip_index) & (runs.label == label)
            found = set(zip(runs.on_frame[mine].tolist(), runs.off_frame[mine].tolist()))
            expected = set().union(*(runs_at(x, v) for v in np.unique(x)))
            assert found == expected, (clip, label)
            for first, stop, birth, death in zip(runs.on_frame[mine], runs.off_frame[mine], runs.birth[mine], runs.death[mine]):
                assert birth == x[first:stop].min()
                neighbours = [x[first - 1]] if first > 0 else []
                neighbours += [x[stop]] if stop < len(x) else []
                assert death == (max(neighbours) if neighbours else -np.inf)
                # A run is a detection exactly for thresholds in [death, birth).
                for v in np.unique(x):
                    assert ((first, stop) in runs_at(x, v)) == (death < v <= birth)


def test_ranks_index_the_class_levels():
    rng = np.random.default_rng(5)
    scores = {"a": rng.integers(0, 6, size=(2, 30)) / 5, "b": rng.random((2, 30))}
    runs = detection_intervals(ScoreGrid.from_scores(scores, ("a", "b"), 0.1))
    for c in range(2):
        mine = runs.label == c
        assert np.array_equal(runs.levels[c][runs.birth_rank[mine]], runs.birth[mine])
        mortal = mine & (runs.death_rank >= 0)
        assert np.array_equal(runs.levels[c][runs.death_rank[mortal]], runs.death[mortal])
        assert np.all(np.isneginf(runs.death[mine & (runs.death_rank < 0)]))


def test_runs_starting_at_or_after_the_clip_duration_are_dropped():
    scores = {"a": np.array([[0.9, 0.1, 0.9, 0.1, 0.9]])}
    grid = ScoreGrid.from_scores(scores, ("a",), 0.1)
    kept = detection_intervals(grid, np.array([0.4]))
    assert set(kept.on_frame.tolist()) == {0, 2}  # the run starting at 0.4 s is padding
    assert set(detection_intervals(grid, np.array([0.41])).on_frame.tolist()) == {0, 2, 4}


def test_alive_at_gives_the_thresholds_of_each_run():
    scores = {"a": np.array([[0.2, 0.8, 0.5, 0.8, 0.2]])}
    runs = detection_intervals(ScoreGrid.from_scores(scores, ("a",), 0.1))
    thresholds = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    first, count = runs.alive_at(thresholds)
    owner, k = expand_ranges(first, count)
    detections = {(int(runs.on_frame[i]), int(runs.off_frame[i]), float(thresholds[j])) for i, j in zip(owner, k)}
    assert detections == {(0, 5, 0.1), (1, 4, 0.3), (1, 2, 0.5), (3, 4, 0.5), (1, 2, 0.7), (3, 4, 0.7)}
