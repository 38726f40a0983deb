"""Bootstrap from count changes == recomputing on each resample; sed_scores_eval's own resamples give its values."""

import numpy as np
import pytest

from tbfl.evaluation.bootstrap import (
    bootstrap_psds, confidence_interval, resampled_clip_weights, sed_scores_eval_clip_weights,
)
from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import intersection_changes
from tbfl.evaluation.postprocessing.frames import median_filter_clips
from tbfl.evaluation.settings import PSDS1, PSDS2
from tbfl.evaluation.validation import reference_events


def changes_of(case, scenario):
    clip_ids = tuple(sorted(case.durations))
    grid = ScoreGrid.from_scores(case.scores, clip_ids, case.frame_hop_s)
    duration_s = np.array([case.durations[c] for c in clip_ids])
    intervals = detection_intervals(grid, duration_s)
    reference = GroundTruth.from_events(reference_events(case.events, case.classes), clip_ids, case.classes)
    changes = intersection_changes(
        intervals, reference, case.classes,
        dtc=scenario.dtc, gtc=scenario.gtc, cttc=scenario.cttc if scenario.alpha_ct > 0 else None,
    )
    return changes, duration_s, clip_ids


@pytest.mark.parametrize("scenario", [PSDS1, PSDS2], ids=["psds1", "psds2"])
def test_sed_scores_eval_s_resamples_give_its_values(random_cases, scenario):
    from sed_scores_eval import intersection_based

    from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_inputs

    case = random_cases[0]
    changes, duration_s, clip_ids = changes_of(case, scenario)
    weights = sed_scores_eval_clip_weights(len(clip_ids), 5, 4)
    ours = bootstrap_psds(changes, duration_s, weights, scenario)
    tables, reference = sed_scores_eval_inputs(case.scores, case.events, case.classes, case.frame_hop_s)
    theirs = intersection_based.bootstrapped_psds(
        tables, reference, case.durations, dtc_threshold=scenario.dtc, gtc_threshold=scenario.gtc,
        cttc_threshold=scenario.cttc if scenario.alpha_ct > 0 else None, alpha_ct=scenario.alpha_ct,
        alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr, n_folds=5, n_iterations=4,
    )[0]
    # A resample where a class has no reference event: tbfl leaves the class out (psds_eval's rule, as for the
    # point value); sed_scores_eval averages it in with a TPR of 0. Every other resample is equal.
    n_ref = np.stack([np.bincount(changes.ref_label, weights=w[changes.ref_clip], minlength=len(case.classes)) for w in weights])
    all_classes = (n_ref > 0).all(axis=1)
    theirs = np.array(theirs, dtype=float)
    assert all_classes.sum() >= 12
    assert np.allclose(ours[all_classes], theirs[all_classes], atol=1e-9, rtol=0)
    assert (ours[~all_classes] > theirs[~all_classes]).all()
    assert np.ptp(ours) > 0.01  # the resamples differ


def test_weights_equal_a_recomputation_on_the_drawn_clips(random_cases):
    from tbfl.evaluation.evaluate import evaluate_scores

    case = random_cases[1]
    changes, duration_s, clip_ids = changes_of(case, PSDS2)
    weights = resampled_clip_weights(len(clip_ids), 3, seed=5)
    ours = bootstrap_psds(changes, duration_s, weights, PSDS2)
    for w, value in zip(weights, ours):
        drawn = [(f"{c}_{k}", c) for c, n in zip(clip_ids, w) for k in range(n)]
        scores = {name: case.scores[c] for name, c in drawn}
        events = case.events.assign(clip=[f[:-4] for f in case.events["filename"]])
        copies = [events[events["clip"] == c].assign(filename=f"{name}.wav") for name, c in drawn]
        import pandas as pd

        again = evaluate_scores(scores, pd.concat(copies).drop(columns="clip"), {n: case.durations[c] for n, c in drawn},
                                case.classes, frame_hop_s=case.frame_hop_s, median_filter_s=0.0)
        assert again.psds2_threshold_free.value == pytest.approx(value, abs=1e-12)


def test_confidence_interval_is_the_central_percentiles():
    mean, low, high = confidence_interval(np.arange(101.0), 0.9)
    assert (mean, low, high) == pytest.approx((50.0, 5.0, 95.0), abs=1e-12)


def test_cli_bootstrap_writes_the_intervals_of_these_resamples(tmp_path, random_cases):
    import json

    from tbfl.cli import main
    from tbfl.evaluation.scores import write_scores

    case = random_cases[2]
    write_scores(tmp_path / "scores", case.scores, case.classes, case.frame_hop_s)
    case.events.to_csv(tmp_path / "gt.tsv", sep="\t", index=False)
    (tmp_path / "d.tsv").write_text("filename\tduration\n" + "".join(f"{c}.wav\t{d}\n" for c, d in case.durations.items()))
    assert main(["evaluate", "--scores", str(tmp_path / "scores"), "--ground-truth", str(tmp_path / "gt.tsv"),
                 "--durations", str(tmp_path / "d.tsv"), "--median-filter-s", "0", "--bootstrap", "40",
                 "--no-progress", "--out", str(tmp_path / "m.json")]) == 0
    written = json.loads((tmp_path / "m.json").read_text())
    changes, duration_s, clip_ids = changes_of(case, PSDS2)
    expected = confidence_interval(bootstrap_psds(changes, duration_s, resampled_clip_weights(len(clip_ids), 40, 0), PSDS2))
    got = written["confidence_intervals"]["psds2_threshold_free"]
    assert (got["mean"], got["low"], got["high"]) == pytest.approx(expected, abs=1e-12)
    assert got["low"] < written["psds2_threshold_free"] < got["high"]
    assert set(written["confidence_intervals"]) == {"psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free",
                                                    "intersection_f1", "event_f1", "event_f1_best", "collar_error_rate",
                                                    "intersection_error_rate", "clip_f1", "clip_error_rate", "clip_auroc"}


def test_event_f1_resamples_equal_a_recomputation_on_the_drawn_clips(random_cases):
    """Collar-based counts kept per clip: summed with clip weights they give the F1 of the drawn clips evaluated anew."""
    import pandas as pd

    from tbfl.evaluation.bootstrap import bootstrap_event_f1
    from tbfl.evaluation.evaluate import evaluate_scores
    from tbfl.evaluation.metrics.collar_based import collar_clip_counts, collar_counts
    from tbfl.evaluation.settings import DEFAULT_THRESHOLDS

    case = random_cases[1]
    clip_ids = tuple(sorted(case.durations))
    grid = ScoreGrid.from_scores(case.scores, clip_ids, case.frame_hop_s)
    intervals = detection_intervals(grid, np.array([case.durations[c] for c in clip_ids]))
    reference = GroundTruth.from_events(reference_events(case.events, case.classes), clip_ids, case.classes)
    swept = np.union1d(DEFAULT_THRESHOLDS, [0.5])
    per_clip = collar_clip_counts(intervals, reference, case.classes, swept)
    whole = collar_counts(intervals, reference, case.classes, swept)
    summed = per_clip.accumulate()
    assert (summed.tp == whole.tp).all() and (summed.n_sys == whole.n_sys).all() and (summed.n_ref == whole.n_ref).all()

    weights = resampled_clip_weights(len(clip_ids), 3, seed=7)
    at_half, best = bootstrap_event_f1(per_clip, weights, 0.5, DEFAULT_THRESHOLDS)
    events = case.events.assign(clip=[f[:-4] for f in case.events["filename"]])
    for w, f1_half, f1_best in zip(weights, at_half, best):
        drawn = [(f"{c}_{k}", c) for c, n in zip(clip_ids, w) for k in range(n)]
        copies = [events[events["clip"] == c].assign(filename=f"{name}.wav") for name, c in drawn]
        again = evaluate_scores({name: case.scores[c] for name, c in drawn}, pd.concat(copies).drop(columns="clip"),
                                {n: case.durations[c] for n, c in drawn}, case.classes, frame_hop_s=case.frame_hop_s,
                                median_filter_s=0.0)
        assert again.event_f1.f1_macro == pytest.approx(f1_half, abs=1e-12)
        assert again.event_f1_best.f1_macro == pytest.approx(f1_best, abs=1e-12)
    assert np.ptp(best) > 0  # the resamples differ


def test_the_table_marks_the_intervals_that_miss_their_value():
    """Rare classes bias PSDS and the error rates under resampling (docs/evaluation-metrics.md): there the point
    value can lie outside its percentile interval, and the table says so, line by line."""
    from tbfl.evaluation import evaluate_scores
    from tbfl.evaluation.simulate import simulate_array_case

    def table(n_clips, n_classes, events_per_clip):
        case = simulate_array_case(n_clips, n_classes, events_per_clip=events_per_clip, seed=2)
        result = evaluate_scores(case.score_dict(), case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                                 median_filter_s=0.0, bootstrap=20, bootstrap_seed=1)
        values = result.to_dict()
        lines = result.format_table().split("95% intervals over 20 clip resamples")[1].splitlines()[1:]
        rows = {line.split()[0]: line for line in lines if line.startswith("  ") and not line.startswith("  *")}
        assert list(rows) == list(result.confidence_intervals)
        missed = {name for name, (_, low, high) in result.confidence_intervals.items() if not low <= values[name] <= high}
        for name, row in rows.items():
            assert row.split()[1] == f"{values[name]:.3f}"
            assert row.endswith(" *") == (name in missed)
        assert any("the interval misses the value" in line for line in lines) == bool(missed)
        return missed

    assert {"psds1", "psds2", "collar_error_rate"} <= table(150, 40, 2.0)  # 40 classes, 2 events per clip: many rare
    assert table(150, 4, 4.0) == set()  # 4 classes with about 150 events each
