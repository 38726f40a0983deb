"""SEBBs: hand-checked boxes, equality with the reference package ``sebbs`` 1.0.2, and the curve equals the boxes."""

import warnings

import numpy as np
import pytest

from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_inputs, sed_scores_eval_psds
from tbfl.evaluation.operating_points import operating_point_psds
from tbfl.evaluation.postprocessing.frames import decode_events, median_filter
from tbfl.evaluation.postprocessing.sebb import (
    SebbParams, candidate_frames, clip_sebbs, sebb_frames, sebb_operating_points, sebb_scores, sebb_table, step_filter,
    step_filter_frames,
)
from tbfl.evaluation.settings import DEFAULT_THRESHOLDS, PSDS1, PSDS2

HOP_S = 0.064
PARAMS = SebbParams(step_filter_frames=4, merge_threshold_abs=0.15, merge_threshold_rel=1.5)
INF = float("inf")


def curve(*pieces):
    """Concatenated constant pieces: curve((10, 0.1), (5, 0.8)) is 10 frames of 0.1 then 5 of 0.8."""
    return np.concatenate([np.full(n, value) for n, value in pieces])


def boxes(s, params=PARAMS):
    start, stop, confidence = sebb_frames(s, params)
    return list(zip(start.tolist(), stop.tolist(), np.round(confidence, 12).tolist()))


def test_step_filter_is_zero_padded_at_the_clip_edges():
    s = curve((6, 0.1), (6, 0.9))
    # k = 2: at boundary b (0 .. 12) the mean of frames [b, b+2) minus the mean of [b-2, b), 0 outside the clip
    np.testing.assert_allclose(step_filter(s, 4), [0.1, 0.05, 0, 0, 0, 0.4, 0.8, 0.4, 0, 0, 0, -0.45, -0.9], atol=1e-12)
    # candidate frames: those across which the filter does not rise; the rise is frames 4 and 5
    assert candidate_frames(s, 4).tolist() == [True] * 4 + [False] * 2 + [True] * 6
    assert boxes(s) == [(0, 4, 0.1), (6, 12, 0.9)]
    assert step_filter_frames(0.32, HOP_S) == 6 and step_filter_frames(0.48, HOP_S) == 8
    assert step_filter_frames(0.64, HOP_S) == 10 and step_filter_frames(HOP_S, HOP_S) == 2
    with pytest.raises(ValueError, match="at least one frame hop"):  # 0 s was silently 2 frames
        step_filter_frames(0.0, HOP_S)


def test_candidate_frames_are_where_the_step_filter_does_not_rise():
    rng = np.random.default_rng(3)
    for n_frames in (2, 4, 6, 10, 16):
        for length in (1, 3, 7, 50, 156):
            s = rng.random(length)
            assert candidate_frames(s, n_frames).tolist() == (np.diff(step_filter(s, n_frames)) <= 0).tolist()


def test_clean_step_gives_an_event_box_with_its_onset_offset_and_confidence():
    s = curve((10, 0.1), (20, 0.8), (126, 0.1))
    # the background on either side is a box too (confidence 0.1), k frames away from the event
    assert boxes(s) == [(0, 8, 0.1), (10, 30, 0.8), (32, 156, 0.1)]
    times = np.arange(157) * HOP_S
    assert clip_sebbs(s[None], times, ("Dog",), [PARAMS])[1] == (10 * HOP_S, 30 * HOP_S, "Dog", pytest.approx(0.8, abs=1e-15))
    # the event box does not depend on the step filter length
    for n in (2, 6, 10):
        assert boxes(s, SebbParams(n, 0.15, 1.5)) == [(0, 10 - n // 2, 0.1), (10, 30, 0.8), (30 + n // 2, 156, 0.1)]
    assert boxes(s, SebbParams(4, 0.15, 1.5, confidence="max")) == [(0, 8, 0.1), (10, 30, 0.8), (32, 156, 0.1)]


def test_events_at_the_clip_edges_short_events_and_flat_curves():
    # events running over the clip edges start at 0 or end at the clip end
    assert boxes(curve((5, 0.9), (10, 0.1), (5, 0.7))) == [(0, 5, 0.9), (7, 13, 0.1), (15, 20, 0.7)]
    # a 2-frame event under an 8-frame step filter: the filter's maximum is flat over boundaries 8 .. 10 and its
    # minimum over 12 .. 14; the box runs from the first maximum to the last minimum (as the reference), 2 frames
    # wider than the event on each side, and its confidence is the mean over the box
    assert boxes(curve((10, 0.1), (2, 0.9), (10, 0.1)), SebbParams(8, 0.15, 1.5)) == [
        (0, 6, 0.1), (8, 14, round(2.2 / 6, 12)), (16, 22, 0.1)]
    # no change at all: one box over the whole clip
    assert boxes(np.full(12, 0.3)) == [(0, 12, 0.3)]
    assert boxes(np.zeros(12)) == [(0, 12, 0.0)]
    # clips shorter than the step filter
    assert boxes(np.array([0.5]), SebbParams(8, 0.15, 1.5)) == [(0, 1, 0.5)]
    assert boxes(np.zeros(0)) == []


def test_staircase_steps_are_boxes_unless_their_gaps_are_merged():
    s = curve((5, 0.1), (5, 0.5), (5, 0.9), (5, 0.5), (5, 0.1))
    # every step is a candidate; the gaps between 0.5 and 0.9 are 0.4 deep and 1.8-fold (at least 0.15 and 1.5)
    assert boxes(s) == [(0, 3, 0.1), (5, 8, 0.5), (10, 15, 0.9), (17, 20, 0.5), (22, 25, 0.1)]
    # under 2-fold they merge (only the relative test), the gaps to the 0.1 background (about 5-fold) do not
    assert boxes(s, SebbParams(4, INF, 2.0)) == [(0, 3, 0.1), (5, 20, round(9.5 / 15, 12)), (22, 25, 0.1)]


def test_a_gap_is_merged_only_when_both_tests_pass_and_all_gaps_are_decided_at_once():
    # k = 1: candidates [0, 2), [3, 7) peak 0.9, [8, 12) peak 0.86, [13, 17) peak 0.82, [18, 20);
    # gaps at frame 7 (0.85) and frame 12 (0.8)
    s = curve((3, 0.1), (4, 0.9), (1, 0.85), (4, 0.86), (1, 0.8), (4, 0.82), (3, 0.1))
    assert boxes(s, SebbParams(2, 0.0, 0.0)) == [(0, 2, 0.1), (3, 7, 0.9), (8, 12, 0.86), (13, 17, 0.82), (18, 20, 0.1)]
    joined = round((3.6 + 0.85 + 3.44 + 0.8 + 3.28) / 14, 12)
    # frame 7: 0.9 - 0.85 = 0.05; frame 12: 0.86 - 0.8 = 0.06, judged against its own neighbours' peaks, not
    # against the 0.9 of the box the first merge forms (that would be 0.1 and keep the gap)
    assert boxes(s, SebbParams(2, 0.08, INF)) == [(0, 2, 0.1), (3, 17, joined), (18, 20, 0.1)]
    assert boxes(s, SebbParams(2, 0.055, INF)) == [(0, 2, 0.1), (3, 12, round(7.89 / 9, 12)), (13, 17, 0.82), (18, 20, 0.1)]
    # ratios (peak + 0.001) / (gap + 0.001): frame 7 1.059, frame 12 1.075
    assert boxes(s, SebbParams(2, INF, 1.1)) == [(0, 2, 0.1), (3, 17, joined), (18, 20, 0.1)]
    assert boxes(s, SebbParams(2, INF, 1.06)) == boxes(s, SebbParams(2, 0.055, INF))
    # both tests must pass: the absolute one alone would merge frame 12, the relative one keeps it
    assert boxes(s, SebbParams(2, 0.08, 1.06)) == boxes(s, SebbParams(2, 0.055, INF))
    # max as confidence (a tbfl option)
    assert boxes(s, SebbParams(2, 0.08, INF, confidence="max"))[1] == (3, 17, 0.9)


def test_the_ratio_test_adds_a_thousandth_to_both_scores():
    s = curve((3, 0.002), (1, 0.0), (3, 0.002))  # candidates [0, 3) and [4, 7), a gap of 0 at frame 3
    assert boxes(s, SebbParams(2, INF, 3.5)) == [(0, 7, round(0.012 / 7, 12))]  # (0.002 + 0.001) / 0.001 = 3
    assert boxes(s, SebbParams(2, INF, 2.5)) == [(0, 3, 0.002), (4, 7, 0.002)]


def test_params_are_validated():
    with pytest.raises(ValueError, match="even integer length"):
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


# --- Cross-check with the reference implementation, sebbs 1.0.2 (the paper authors' package; test-only, AGPL) ---

#: The reference's tuning grid pairs each merge threshold with inf; (0, 0) never merges, (inf, inf) merges every gap.
MERGE_THRESHOLDS = [(0.15, INF), (0.3, INF), (INF, 1.5), (INF, 3.0), (0.2, 2.0), (0.0, 0.0), (INF, INF)]


def reference_sebbs(curves, times_s, params):
    """sebbs' cSEBBs of each row of ``curves`` (one clip, one row per parameter set; step filters of
    ``step_filter_frames`` frame hops): per row, its boxes [(onset_s, offset_s, confidence)] and its candidate
    frames (n,) bool, from sebbs' own change detection.

    sebbs divides a box's score sum by its duration plus 1e-6 s when the clip has two or more candidates of that
    class; that factor is undone here (tbfl takes the plain mean).
    """
    from sebbs.change_detection import change_detection
    from sebbs.csebbs import CSEBBsPredictor
    from sed_scores_eval.base_modules.scores import create_score_dataframe

    names = [f"c{i}" for i in range(len(curves))]
    hop_s = times_s[1] - times_s[0]
    lengths_s = {name: p.step_filter_frames * hop_s for name, p in zip(names, params)}
    predictor = CSEBBsPredictor(
        step_filter_length=lengths_s, sound_classes=names,
        merge_threshold_abs={name: p.merge_threshold_abs for name, p in zip(names, params)},
        merge_threshold_rel={name: p.merge_threshold_rel for name, p in zip(names, params)},
    )
    table = create_score_dataframe(np.asarray(curves, dtype=np.float64).T, times_s, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predicted = predictor.predict({"clip": table})["clip"]
    detected = change_detection(table[names].to_numpy(), times_s, np.array([lengths_s[n] for n in names]))
    n_candidates, masks = {}, []
    for name, (bounds, *_) in zip(names, detected):
        frames = np.rint(np.asarray(bounds[1:-1]) / hop_s).astype(int)  # onset, offset, onset, ... of the candidates
        mask = np.zeros(len(times_s) - 1, dtype=bool)
        for onset, offset in zip(frames[0::2], frames[1::2]):
            mask[onset:offset] = True
        n_candidates[name] = len(frames) // 2
        masks.append(mask)
    out = {name: [] for name in names}
    for onset, offset, name, confidence in predicted:
        duration = offset - onset
        plain = confidence * (duration + 1e-6) / duration if n_candidates[name] >= 2 else confidence
        out[name].append((float(onset), float(offset), float(plain)))
    return [out[name] for name in names], masks


def ties(s, n_frames):
    """(n,) bool: frames where the step filter neither rises nor falls (2 s[b] = s[b - k] + s[b + k], to 1e-12)."""
    k = n_frames // 2
    padded = np.concatenate([np.zeros(k), s, np.zeros(k)])
    return np.abs(2 * s - (padded[: len(s)] + padded[2 * k :])) <= 1e-12


def assert_equal_to_reference(curves, times_s, params, *, exact=True):
    """tbfl's candidate frames and boxes of every row equal sebbs' (times and confidences to 1e-9).

    ``exact=False`` (scores not exact in binary): where the step filter ties, sebbs' running sums decide the
    tie by their rounding noise; on a row where that made a tied frame's candidate status differ from tbfl's
    exact decision, only the candidate frames off the ties are compared (every other row in full).
    Returns the number of boxes compared and the number of rows whose ties were decided differently.
    """
    expected, masks = reference_sebbs(curves, times_s, params)
    names = tuple(f"c{i}" for i in range(len(curves)))
    ours = clip_sebbs(np.asarray(curves), times_s, names, params)
    n_boxes = n_tied = 0
    for name, s, p, theirs, mask in zip(names, curves, params, expected, masks):
        candidates = candidate_frames(s, p.step_filter_frames)
        if not exact and (candidates != mask).any():
            untied = ~ties(s, p.step_filter_frames)
            assert (candidates[untied] == mask[untied]).all(), p
            n_tied += 1
            continue
        assert (candidates == mask).all(), p
        mine = [(onset, offset, confidence) for onset, offset, label, confidence in ours if label == name]
        assert len(mine) == len(theirs), (p, mine, theirs)
        np.testing.assert_allclose(np.reshape(mine, (-1, 3)), np.reshape(theirs, (-1, 3)), rtol=0, atol=1e-9, err_msg=str(p))
        n_boxes += len(mine)
    return n_boxes, n_tied


def all_params(step_filters=(2, 4, 6, 8, 10, 16)):
    return [SebbParams(n, a, r) for n in step_filters for a, r in MERGE_THRESHOLDS]


def exact_curves(rng, n):
    """Curves of n frames whose scores are multiples of 1/64: bumps (short, long, at the clip edges), flat and
    piecewise-constant curves (plateaus everywhere: the step filter ties), dyadic noise."""
    levels = np.arange(65) / 64
    curves = [np.zeros(n), np.full(n, 0.5), np.ones(n), np.full(n, 1 / 64), rng.choice(levels, n)]
    for length in (1, 2, 3, 5, 9, 20):
        for start in (0, max(0, n - length), int(rng.integers(0, max(1, n - length)))):
            s = np.full(n, rng.choice(levels[:16]))
            s[start : start + length] = rng.choice(levels[32:])
            curves.append(s)
    for _ in range(4):
        runs = rng.integers(1, 13, size=n)
        curves.append(np.repeat(rng.choice(levels, size=n), runs)[:n])
    stairs = np.repeat([0.125, 0.5, 0.875, 0.5, 0.125, 0.5, 0.25], -(-n // 7))[:n]
    curves.append(stairs)
    return curves


def test_boxes_equal_the_reference_on_curves_exact_in_binary():
    """Scores and times exact in binary: the reference's running sums have no rounding noise, ties included."""
    rng = np.random.default_rng(0)
    hop_s, n_boxes, n_curves, n_tied = 0.0625, 0, 0, 0
    params = all_params()
    for n in (1, 3, 7, 16, 40, 157):
        times = np.arange(n + 1) * hop_s
        for s in exact_curves(rng, n):
            n_boxes += assert_equal_to_reference(np.tile(s, (len(params), 1)), times, params)[0]
            n_curves += len(params)
            n_tied += sum(ties(s, p.step_filter_frames).any() for p in params)
    assert n_curves > 7000 and n_boxes > 13_000 and n_tied > 3000


def test_boxes_equal_the_reference_on_real_valued_scores(random_cases):
    """At the DESED frame hop (64 ms): random and smoothed random curves, and simulated scores median-filtered
    as tbfl's evaluation filters them, over the reference's tuning grid (step filters of 0.32/0.48/0.64 s
    rounded to 6/8/10 frames)."""
    rng = np.random.default_rng(1)
    hop_s, n_boxes = HOP_S, 0
    params = all_params((2, 6, 8, 10))
    for n in (5, 50, 156):
        times = np.round(np.arange(n + 1) * hop_s, 6)
        for s in (rng.random(n), np.convolve(rng.random(n + 12), np.ones(13) / 13, "valid")[:n], rng.random(n) ** 4):
            n_boxes += assert_equal_to_reference(np.tile(s, (len(params), 1)), times, params, exact=False)[0]
    grid = all_params((6, 8, 10))
    n_rows = n_tied = 0
    case = random_cases[2]
    for clip, scores in list(case.scores.items())[:6]:
        times = np.round(np.arange(scores.shape[1] + 1) * hop_s, 6)
        for filter_frames in (1, 7):
            filtered = median_filter(np.asarray(scores, np.float64), filter_frames)
            rows = np.repeat(filtered, len(grid), axis=0)
            boxes_compared, tied = assert_equal_to_reference(rows, times, grid * len(filtered), exact=False)
            n_boxes, n_rows, n_tied = n_boxes + boxes_compared, n_rows + len(rows), n_tied + tied
    assert n_boxes > 20_000 and n_tied < 0.05 * n_rows


def test_psds_of_the_sebb_curves_equals_sed_scores_eval_on_the_reference_boxes(random_cases):
    """A whole evaluation: sed_scores_eval's PSDS1/PSDS2 on sebbs' boxes equal tbfl's own threshold-free PSDS
    (and sed_scores_eval's) of tbfl's piecewise-constant SEBB curves, with different parameters per class."""
    from sebbs.csebbs import CSEBBsPredictor
    from sebbs.utils import sed_scores_from_sebbs
    from sed_scores_eval import intersection_based
    from sed_scores_eval.base_modules.scores import create_score_dataframe

    case = random_cases[0]
    classes, hop_s = list(case.classes), case.frame_hop_s
    grid = [(a, r) for a, r in MERGE_THRESHOLDS if (a, r) != (0.0, 0.0)]
    params = [SebbParams((6, 8, 10)[c % 3], *grid[c % len(grid)]) for c in range(len(classes))]
    filtered = {clip: median_filter(np.asarray(v, np.float64), 7) for clip, v in case.scores.items()}
    tables = {clip: create_score_dataframe(v.T, np.round(np.arange(v.shape[1] + 1) * hop_s, 6), classes)
              for clip, v in filtered.items()}
    predictor = CSEBBsPredictor(
        step_filter_length={name: p.step_filter_frames * hop_s for name, p in zip(classes, params)},
        merge_threshold_abs={name: p.merge_threshold_abs for name, p in zip(classes, params)},
        merge_threshold_rel={name: p.merge_threshold_rel for name, p in zip(classes, params)}, sound_classes=classes,
    )
    durations = {clip: float(d) for clip, d in case.durations.items()}
    theirs = sed_scores_from_sebbs(predictor.predict(tables), classes, audio_duration=durations)
    _, ground_truth = sed_scores_eval_inputs(case.scores, case.events, classes, hop_s)
    curves = sebb_scores(filtered, params)
    ours = evaluate_scores(curves, case.events, case.durations, case.classes, frame_hop_s=hop_s, median_filter_s=0.0)
    for scenario, mine in ((PSDS1, ours.psds1_threshold_free), (PSDS2, ours.psds2_threshold_free)):
        cttc = scenario.cttc if scenario.alpha_ct > 0 else None
        reference, per_class, *_ = intersection_based.psds(
            scores=theirs, ground_truth=ground_truth, audio_durations=durations, dtc_threshold=scenario.dtc,
            gtc_threshold=scenario.gtc, cttc_threshold=cttc, alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st,
            unit_of_time="hour", max_efpr=scenario.max_efpr,
        )
        assert 0.05 < reference < 1
        assert mine.value == pytest.approx(reference, abs=1e-12)
        on_curves, per_class_curves = sed_scores_eval_psds(
            curves, case.events, case.durations, classes, hop_s, dtc=scenario.dtc, gtc=scenario.gtc, cttc=cttc,
            alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr)
        assert on_curves == pytest.approx(reference, abs=1e-12)
        assert per_class_curves == pytest.approx(per_class, abs=1e-12)
