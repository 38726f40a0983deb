"""Segment-based and clip-based F1, error rate and (partial) AUROC == sed_scores_eval 0.0.4."""

import numpy as np
import pytest

from tbfl.evaluation.metrics.clip_based import clip_scores, clip_statistics
from tbfl.evaluation.metrics.clip_based.reference import sed_scores_eval_clip_based
from tbfl.evaluation.metrics.detections import ScoreGrid
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.segment_based import Segments
from tbfl.evaluation.metrics.segment_based.reference import sed_scores_eval_segment_based
from tbfl.evaluation.validation import reference_events

HOP_S = 0.064


def ours(case, segment_length_s, threshold, max_fpr, durations=None):
    durations = durations or case.durations
    clip_ids = tuple(sorted(durations))
    grid = ScoreGrid.from_scores(case.scores, clip_ids, case.frame_hop_s)
    truth = GroundTruth.from_events(reference_events(case.events, case.classes), clip_ids, case.classes)
    n_frames = np.array([case.scores[c].shape[1] for c in clip_ids])
    duration_s = np.array([durations[c] for c in clip_ids])
    segments = Segments.of(grid, n_frames, duration_s, truth, segment_length_s)
    segment_items = segments.statistics(case.classes, segments.scores(grid), len(clip_ids))
    clip_items = clip_statistics(case.classes, clip_scores(grid), truth)
    return {name: (items.fscore(threshold), items.error_rate(threshold), items.auroc(max_fpr))
            for name, items in (("segment", segment_items), ("clip", clip_items))}


def assert_equal(mine, reference, classes):
    fscore, error_rate, auroc = mine
    has_events = "f1" in reference
    if has_events:
        for c, name in enumerate(classes):
            assert fscore.f1[c] == pytest.approx(reference["f1"][name], abs=1e-12), name
            assert fscore.recall[c] == pytest.approx(reference["recall"][name], abs=1e-12), name
            if fscore.tp[c] + fscore.fp[c] > 0:  # sed_scores_eval's precision is 1 without output, sed_eval's 0
                assert fscore.precision[c] == pytest.approx(reference["precision"][name], abs=1e-12), name
            assert error_rate.error_rate[c] == pytest.approx(reference["error_rate"][name], abs=1e-12), name
        assert fscore.f1_macro == pytest.approx(reference["f1"]["mean"], abs=1e-12)
        assert error_rate.error_rate_macro == pytest.approx(reference["error_rate"]["mean"], abs=1e-12)
    for c, name in enumerate(classes):
        if np.isnan(reference["auroc"][name]):
            assert np.isnan(auroc.per_class[c]), name
        else:
            assert auroc.per_class[c] == pytest.approx(reference["auroc"][name], abs=1e-12), name
    defined = [v for name, v in reference["auroc"].items() if name != "mean" and not np.isnan(v)]
    assert auroc.mean == pytest.approx(np.mean(defined), abs=1e-12)
    return has_events


@pytest.mark.parametrize("case_index", range(3))
@pytest.mark.parametrize("segment_length_s, max_fpr", [(1.0, None), (0.7, 0.1), (2.5, 0.5), (0.064, 0.05)])
def test_segment_and_clip_based_match_sed_scores_eval(random_cases, case_index, segment_length_s, max_fpr):
    case = random_cases[case_index]
    mine = ours(case, segment_length_s, 0.5, max_fpr)
    reference = sed_scores_eval_segment_based(case.scores, case.events, case.durations, case.classes, case.frame_hop_s,
                                              segment_length_s=segment_length_s, threshold=0.5, max_fpr=max_fpr)
    assert assert_equal(mine["segment"], reference, case.classes)
    reference = sed_scores_eval_clip_based(case.scores, case.events, case.classes, case.frame_hop_s, threshold=0.5, max_fpr=max_fpr)
    assert_equal(mine["clip"], reference, case.classes)


@pytest.mark.parametrize("max_fpr", [None, 0.2])
def test_a_class_without_events_has_no_rates_and_is_left_out(helpers, max_fpr):
    """sed_scores_eval refuses such a class (segment-based) or averages a NaN in (clip-based): ours gives it NaN
    AUROC and error rate, F1 0, and leaves it out of every mean, so the means are theirs without it."""
    rng = np.random.default_rng(4)
    scores = {f"clip{i}": rng.uniform(0, 1, (3, 50)) for i in range(6)}
    events = helpers.events_frame([("clip0.wav", 0.3, 1.0, "a"), ("clip1.wav", 0.5, 2.9, "a"), ("clip2.wav", 1.0, 1.5, "b"),
                                   ("clip4.wav", 0.0, 3.2, "b")])  # no "c" anywhere; clip3, clip5 without events
    durations = {c: 3.2 for c in scores}
    case = type("Case", (), dict(scores=scores, events=events, durations=durations, classes=("a", "b", "c"), frame_hop_s=HOP_S))
    mine = ours(case, 1.0, 0.5, max_fpr)
    with_events = {clip: values[:2] for clip, values in scores.items()}
    references = {
        "segment": sed_scores_eval_segment_based(with_events, events, durations, ("a", "b"), HOP_S, segment_length_s=1.0,
                                                 threshold=0.5, max_fpr=max_fpr),
        "clip": sed_scores_eval_clip_based(with_events, events, ("a", "b"), HOP_S, threshold=0.5, max_fpr=max_fpr),
    }
    for family, reference in references.items():
        fscore, error_rate, auroc = mine[family]
        assert np.isnan(auroc.per_class[2]) and np.isnan(error_rate.error_rate[2]) and fscore.f1[2] == 0
        assert fscore.f1_macro == pytest.approx(reference["f1"]["mean"], abs=1e-12)
        assert error_rate.error_rate_macro == pytest.approx(reference["error_rate"]["mean"], abs=1e-12)
        assert auroc.mean == pytest.approx(reference["auroc"]["mean"], abs=1e-12)
        assert auroc.per_class[:2] == pytest.approx([reference["auroc"][c] for c in "ab"], abs=1e-12)


def test_segments_cut_events_and_reach_past_the_scores(helpers):
    """Events cut by segment boundaries, a boundary exactly on an event edge, a duration past the last frame."""
    classes = ("a", "b")
    scores = {"x": np.tile(np.linspace(0.1, 0.9, 40), (2, 1)), "y": np.full((2, 40), 0.3)}
    scores["y"][1, 10:20] = 0.8
    events = helpers.events_frame([("x.wav", 0.5, 1.5, "a"), ("x.wav", 2.0, 2.3, "b"), ("y.wav", 0.64, 1.28, "b"),
                                   ("y.wav", 3.0, 3.1, "a")])
    durations = {"x": 2.56, "y": 3.3}  # 40 frames = 2.56 s; y's segments 3 s on have no frame
    case = type("Case", (), dict(scores=scores, events=events, durations=durations, classes=classes, frame_hop_s=HOP_S))
    for segment_length_s in (0.5, 0.64, 1.0):
        for threshold in (0.25, 0.5):
            mine = ours(case, segment_length_s, threshold, 0.3)
            reference = sed_scores_eval_segment_based(scores, events, durations, classes, HOP_S, segment_length_s=segment_length_s,
                                                      threshold=threshold, max_fpr=0.3)
            assert assert_equal(mine["segment"], reference, classes)
