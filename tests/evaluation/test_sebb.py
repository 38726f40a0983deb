"""SEBBs: hand-checked boxes, and the piecewise-constant curve equals the boxes at every threshold."""

import numpy as np
import pytest

from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.operating_points import operating_point_psds
from tbfl.evaluation.postprocess import decode_events
from tbfl.evaluation.sebb import (
    SebbParams, _extrema, clip_sebbs, sebb_frames, sebb_operating_points, sebb_scores, sebb_table, step_filter, step_filter_frames,
)
from tbfl.evaluation.settings import DEFAULT_THRESHOLDS, PSDS1, PSDS2

HOP_S = 0.064
PARAMS = SebbParams(step_filter_frames=4, merge_threshold_abs=0.15, merge_threshold_rel=1.5)


def curve(*pieces):
    """Concatenated constant pieces: curve((10, 0.1), (5, 0.8)) is 10 frames of 0.1 then 5 of 0.8."""
    return np.concatenate([np.full(n, value) for n, value in pieces])


def boxes(s, params=PARAMS):
    start, stop, confidence = sebb_frames(s, params)
    return list(zip(start.tolist(), stop.tolist(), np.round(confidence, 12).tolist()))


def test_step_filter_is_a_triangle_peaking_at_the_step():
    s = curve((6, 0.1), (6, 0.9))
    # k = 2: at boundary b the mean of frames [b, b+2) minus the mean of [b-2, b)
    np.testing.assert_allclose(step_filter(s, 4), [0, 0, 0, 0, 0.4, 0.8, 0.4, 0, 0, 0, 0], atol=1e-12)
    assert step_filter_frames(0.32, HOP_S) == 6 and step_filter_frames(0.48, HOP_S) == 8
    assert step_filter_frames(0.64, HOP_S) == 10 and step_filter_frames(0.0, HOP_S) == 2


def test_clean_step_gives_one_box_with_its_onset_offset_and_confidence():
    s = curve((10, 0.1), (20, 0.8), (126, 0.1))
    assert boxes(s) == [(10, 30, 0.8)]
    times = np.arange(157) * HOP_S
    assert clip_sebbs(s[None], times, ("Dog",), [PARAMS]) == [(10 * HOP_S, 30 * HOP_S, "Dog", 0.8)]
    # The confidence does not depend on the step filter length, the extent neither.
    for n in (2, 6, 10):
        assert boxes(s, SebbParams(n, 0.15, 1.5)) == [(10, 30, 0.8)]


def test_two_plateaus_separated_by_a_drop_give_two_boxes():
    s = curve((10, 0.1), (10, 0.8), (5, 0.1), (8, 0.6), (7, 0.1))
    # every change is at least 0.5 (>= 0.15) and at least 6-fold (>= 1.5)
    assert boxes(s) == [(10, 20, 0.8), (25, 33, 0.6)]
    # an absolute merge threshold above every change leaves one box over the whole clip
    assert boxes(s, SebbParams(4, 0.75, 1.5)) == [(0, 40, 0.8)]
    # a dip to 0.6 between two plateaus of 0.8: 0.2 deep but only 1.33-fold
    shallow = curve((10, 0.1), (10, 0.8), (4, 0.6), (8, 0.8), (8, 0.1))
    assert boxes(shallow) == [(10, 32, 0.8)]
    assert boxes(shallow, SebbParams(4, 0.15, 1.3)) == [(10, 20, 0.8), (24, 32, 0.8)]


def test_a_small_dip_or_bump_below_the_merge_thresholds_does_not_split():
    dip = curve((10, 0.1), (10, 0.8), (3, 0.7), (8, 0.8), (9, 0.1))  # 0.1 < 0.15 below both sides
    assert boxes(dip) == [(10, 31, 0.8)]
    shallow = curve((10, 0.1), (10, 0.8), (3, 0.5), (8, 0.8), (9, 0.1))  # 0.3 deep but 0.8 / 0.5 = 1.6 < 2
    assert boxes(shallow, SebbParams(4, 0.15, 2.0)) == [(10, 31, 0.8)]
    assert boxes(shallow) == [(10, 20, 0.8), (23, 31, 0.8)]  # 1.6 >= 1.5: two events
    bump = curve((10, 0.1), (8, 0.7), (3, 0.8), (8, 0.7), (11, 0.1))  # a bump on a plateau never splits it
    assert boxes(bump) == [(10, 29, 0.8)]
    assert boxes(bump, SebbParams(4, 0.15, 1.5, confidence="mean")) == [(10, 29, round((16 * 0.7 + 3 * 0.8) / 19, 12))]
    # a bump 0.1 above the background beside an event is background: it neither joins nor lengthens the event
    beside = curve((10, 0.1), (10, 0.8), (6, 0.1), (3, 0.2), (11, 0.1))
    assert boxes(beside) == [(10, 20, 0.8)]
    assert boxes(beside, SebbParams(4, 0.05, 1.5)) == [(10, 20, 0.8), (26, 29, 0.2)]


def test_short_events_edges_and_flat_curves():
    # an event of 2 frames under a step filter of 4 + 4 frames: the flat filter peak is resolved by the jump
    assert boxes(curve((10, 0.1), (2, 0.9), (10, 0.1)), SebbParams(8, 0.15, 1.5)) == [(10, 12, 0.9)]
    # events running over the clip edges start at 0 or end at the last frame
    assert boxes(curve((5, 0.9), (10, 0.1), (5, 0.7))) == [(0, 5, 0.9), (15, 20, 0.7)]
    # no change at all: one box over the whole clip
    assert boxes(np.full(12, 0.3)) == [(0, 12, 0.3)]
    # a staircase up and down (every step significant) is one event
    assert boxes(curve((5, 0.1), (5, 0.5), (5, 0.9), (5, 0.5), (5, 0.1))) == [(5, 20, 0.9)]


def test_params_are_validated():
    with pytest.raises(ValueError, match="even length"):
        SebbParams(3, 0.1, 1.0)
    with pytest.raises(ValueError, match="confidence"):
        SebbParams(4, 0.1, 1.0, confidence="median")


def test_piecewise_constant_curve_reproduces_the_boxes_at_every_threshold(random_cases):
    case = random_cases[0]
    params = [SebbParams(6, 0.2, 2.0)] * len(case.classes)
    table = sebb_table(case.scores, case.classes, params, frame_hop_s=case.frame_hop_s)
    assert len(table) > 50 and table["confidence"].between(0, 1).all()
    curves = sebb_scores(case.scores, params)
    columns = ["filename", "onset", "offset", "event_label"]
    for t in (0.0, 0.1, 0.3, 0.5, 0.77):
        from_curve = decode_events(curves, t, case.classes, frame_hop_s=case.frame_hop_s)
        from_boxes = table[table["confidence"] > t][columns]
        key = ["filename", "event_label", "onset"]
        left = from_curve.sort_values(key).reset_index(drop=True)
        right = from_boxes.sort_values(key).reset_index(drop=True)
        assert left.equals(right), t


def test_event_lists_per_operating_point_give_the_curves_psds(random_cases):
    case = random_cases[1]
    params = [SebbParams(8, 0.15, 1.5)] * len(case.classes)
    table = sebb_table(case.scores, case.classes, params, frame_hop_s=case.frame_hop_s)
    detections = sebb_operating_points(table, DEFAULT_THRESHOLDS)
    from_curves = evaluate_scores(sebb_scores(case.scores, params), case.events, case.durations, case.classes,
                                  frame_hop_s=case.frame_hop_s, median_filter_s=0.0)
    for scenario, psds in ((PSDS1, from_curves.psds1), (PSDS2, from_curves.psds2)):
        from_lists = operating_point_psds(detections, case.events, case.durations, case.classes, scenario)
        assert from_lists.value == pytest.approx(psds.value, abs=1e-12)


def plain_boxes(s, points, merge_abs, merge_rel):
    """Steps 3 and 4 written plainly (quadratic): drop the least significant failing change point, repeat; then boxes."""
    points = list(points)
    while points:
        bounds = [0, *points, len(s)]
        levels = [s[a:b].mean() for a, b in zip(bounds[:-1], bounds[1:])]
        failing = []
        for i in range(len(points)):
            low, high = sorted((levels[i], levels[i + 1]))
            difference = round(high - low, 12)
            ratio = round(high / low, 12) if low > 0 else np.inf
            if difference < merge_abs or ratio < merge_rel:
                failing.append((difference, i))
        if not failing:
            break
        del points[min(failing)[1]]
    bounds = [0, *points, len(s)]
    levels = [s[a:b].mean() for a, b in zip(bounds[:-1], bounds[1:])]
    rise = [levels[i + 1] > levels[i] for i in range(len(points))]
    in_event = [not ((j == 0 or not rise[j - 1]) and (j == len(points) or rise[j])) for j in range(len(points) + 1)]
    if not points:
        in_event = [True]
    start, stop = [], []
    for j, inside in enumerate(in_event):
        if inside and (j == 0 or not in_event[j - 1]):
            start.append(bounds[j])
        if inside and (j == len(in_event) - 1 or not in_event[j + 1]):
            stop.append(bounds[j + 1])
    return start, stop


@pytest.mark.parametrize("n_frames,merge_abs,merge_rel", [(4, 0.15, 1.5), (6, 0.2, 2.0), (10, 0.3, 3.0), (8, 0.05, 1.1)])
def test_merging_equals_the_plain_rule_on_noisy_curves(random_cases, n_frames, merge_abs, merge_rel):
    case = random_cases[2]
    n_joined = 0
    for clip, scores in list(case.scores.items())[:6]:
        for s in scores:
            delta = np.round(step_filter(s, n_frames), 12)
            points = np.sort(np.concatenate([_extrema(delta, np.diff(s)), _extrema(-delta, -np.diff(s))]))
            expected = plain_boxes(s, points.tolist(), merge_abs, merge_rel)
            start, stop, _ = sebb_frames(s, SebbParams(n_frames, merge_abs, merge_rel))
            assert (start.tolist(), stop.tolist()) == expected
            n_joined += len(plain_boxes(s, points.tolist(), 0.0, 0.0)[0]) - len(start)
    assert n_joined > 10
