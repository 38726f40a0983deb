"""Median filter, thresholds and decoding, against direct computations and sed_scores_eval."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from tbfl.evaluation.postprocessing.frames import binarize, decode_events, median_filter, median_filter_clips, median_filter_frames

CLASSES = ("a", "b", "c")


@pytest.mark.parametrize(
    ("length_s", "hop_s", "frames"),
    [(0.45, 0.064, 7), (0.448, 0.064, 7), (0.5, 0.064, 7), (0.52, 0.064, 9), (0.384, 0.064, 7), (0.0, 0.064, 1), (0.1, 0.064, 1), (1.0, 0.1, 11)],
)
def test_median_filter_frames_is_the_nearest_odd_number(length_s, hop_s, frames):
    assert median_filter_frames(length_s, hop_s) == frames


def test_median_filter_frames_rejects_bad_input():
    with pytest.raises(ValueError, match="median filter length"):
        median_filter_frames(-0.1, 0.064)


def test_median_filter_is_a_sliding_median_with_mirrored_edges():
    rng = np.random.default_rng(0)
    scores = rng.random((4, 3, 30))
    padded = np.concatenate([scores[..., 2::-1], scores, scores[..., :-4:-1]], axis=-1)  # scipy 'reflect': d c b a | a b c d
    expected = np.median(sliding_window_view(padded, 7, axis=-1), axis=-1)
    assert np.array_equal(median_filter(scores, 7), expected)
    assert np.array_equal(median_filter(scores, 1), scores)


def test_median_filter_clips_handles_clips_of_different_lengths():
    rng = np.random.default_rng(1)
    scores = {"x": rng.random((3, 20)), "y": rng.random((3, 9)), "z": rng.random((3, 20))}
    filtered = median_filter_clips(scores, 5)
    assert list(filtered) == ["x", "y", "z"]
    for clip, values in scores.items():
        assert np.array_equal(filtered[clip], median_filter(values, 5))


@pytest.mark.parametrize("filter_frames", [1, 3, 7, 8])
def test_both_orders_of_filter_and_threshold_give_the_same_activity(filter_frames):
    rng = np.random.default_rng(filter_frames)
    scores = rng.random((3, 156))
    for threshold in [0.1, 0.5, 0.9, np.array([0.2, 0.5, 0.8])]:
        first = binarize(scores, threshold, filter_frames=filter_frames, order="filter_then_threshold")
        second = binarize(scores, threshold, filter_frames=filter_frames, order="threshold_then_filter")
        assert np.array_equal(first, second)
    # and not trivially: filtering changes the activity
    assert filter_frames == 1 or not np.array_equal(binarize(scores, 0.5, filter_frames=filter_frames), scores > 0.5)


def test_binarize_rejects_an_unknown_order():
    with pytest.raises(ValueError, match="unknown order"):
        binarize(np.zeros((1, 4)), 0.5, order="sideways")


@pytest.mark.parametrize("seed", range(3))
def test_decode_events_matches_sed_scores_eval(seed):
    from sed_scores_eval.base_modules.detection import scores_to_event_list

    from tbfl.evaluation.scores import scores_to_frame

    rng = np.random.default_rng(seed)
    scores = {f"clip{i}": rng.random((3, n)) for i, n in enumerate([156, 156, 40, 1])}
    scores["clip0"][:, :5] = 0.95  # events at the first frames
    scores["clip1"][:, -3:] = 0.95  # ... and at the last ones
    scores["clip2"][0] = 0.0  # a class that never fires
    for threshold in [0.3, 0.7, np.array([0.2, 0.5, 0.9])]:
        ours = decode_events(scores, threshold, CLASSES, frame_hop_s=0.064)
        tables = {clip: scores_to_frame(values, CLASSES, 0.064) for clip, values in scores.items()}
        per_class = dict(zip(CLASSES, np.broadcast_to(threshold, (3,)).tolist()))
        reference = scores_to_event_list(tables, per_class)
        expected = sorted(
            (f"{clip}.wav", onset, offset, label) for clip, events in reference.items() for onset, offset, label in events
        )
        assert sorted(ours.itertuples(index=False, name=None)) == expected


def test_decode_events_one_frame_events_and_empty_output():
    scores = {"c": np.array([[0.1, 0.9, 0.1, 0.9, 0.9], [0.0, 0.0, 0.0, 0.0, 0.0], [0.6, 0.1, 0.1, 0.1, 0.6]])}
    events = decode_events(scores, 0.5, CLASSES, frame_hop_s=0.1)
    assert list(events.columns) == ["filename", "onset", "offset", "event_label"]
    assert [(row.onset, row.offset, row.event_label) for row in events.itertuples()] == [
        (0.1, 0.2, "a"), (0.30000000000000004, 0.5, "a"), (0.0, 0.1, "c"), (0.4, 0.5, "c"),
    ]
    assert decode_events(scores, 0.95, CLASSES, frame_hop_s=0.1).empty
    assert decode_events({}, 0.5, CLASSES, frame_hop_s=0.1).empty


def test_a_score_equal_to_the_threshold_is_off():
    scores = {"c": np.array([[0.5, 0.5, 0.6, 0.5], [0.4, 0.5, 0.5, 0.4], [0.0, 0.0, 0.0, 0.0]])}
    events = decode_events(scores, 0.5, CLASSES, frame_hop_s=0.1)
    assert [(row.onset, row.offset, row.event_label) for row in events.itertuples()] == [(0.2, 0.30000000000000004, "a")]
