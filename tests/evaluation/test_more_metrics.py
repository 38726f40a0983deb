"""The rest of sed_scores_eval 0.0.4 through ``evaluate_scores``: error rates, clip- and segment-based families."""

import json

import numpy as np
import pytest

from tbfl.cli import main
from tbfl.evaluation.evaluate import PSDS1, PSDS2, evaluate_scores
from tbfl.evaluation.metrics.clip_based.reference import sed_scores_eval_clip_based
from tbfl.evaluation.metrics.collar_based.reference import sed_scores_eval_collar_error_rate
from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_intersection_error_rate, sed_scores_eval_pipsds
from tbfl.evaluation.metrics.items import ItemStatistics
from tbfl.evaluation.metrics.segment_based.reference import sed_scores_eval_segment_based
from tbfl.evaluation.postprocessing.frames import median_filter_clips, median_filter_frames
from tbfl.evaluation.scores import write_scores


def evaluate(case, **options):
    return evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                           median_filter_s=0.0, **options)


@pytest.mark.parametrize("case_index", range(3))
def test_error_rates_match_sed_scores_eval(random_cases, case_index):
    case = random_cases[case_index]
    result = evaluate(case, f1_threshold=0.5)
    for rate, reference in (
        (result.collar_error_rate, sed_scores_eval_collar_error_rate(case.scores, case.events, case.classes, case.frame_hop_s, 0.5)),
        (result.intersection_error_rate, sed_scores_eval_intersection_error_rate(case.scores, case.events, case.classes,
                                                                                 case.frame_hop_s, 0.5)),
    ):
        macro, per_class = reference
        assert rate.error_rate_macro == pytest.approx(macro, abs=1e-12)
        assert rate.error_rate == pytest.approx([per_class[c] for c in case.classes], abs=1e-12)


@pytest.mark.parametrize("max_fpr", [None, 0.1])
def test_item_families_through_evaluate_match_sed_scores_eval(random_cases, max_fpr):
    case = random_cases[1]
    result = evaluate(case, segment_length_s=1.0, auroc_max_fpr=max_fpr)
    segment = sed_scores_eval_segment_based(case.scores, case.events, case.durations, case.classes, case.frame_hop_s,
                                            segment_length_s=1.0, threshold=0.5, max_fpr=max_fpr)
    clip = sed_scores_eval_clip_based(case.scores, case.events, case.classes, case.frame_hop_s, threshold=0.5, max_fpr=max_fpr)
    for mine, reference in ((result.segment_based, segment), (result.clip_based, clip)):
        assert mine.fscore.f1_macro == pytest.approx(reference["f1"]["mean"], abs=1e-12)
        assert mine.error_rate.error_rate_macro == pytest.approx(reference["error_rate"]["mean"], abs=1e-12)
        assert mine.auroc.mean == pytest.approx(reference["auroc"]["mean"], abs=1e-12)
        assert mine.auroc.per_class == pytest.approx([reference["auroc"][c] for c in case.classes], abs=1e-12)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["segment_auroc"] == pytest.approx(segment["auroc"]["mean"], abs=1e-12)
    assert data["settings"]["segment_length_s"] == 1.0 and data["settings"]["auroc_max_fpr"] == max_fpr
    table = result.format_table()
    assert "seg AUC" in table and "cli F1" in table and "segments of 1 s" in table


def test_bootstrap_intervals_cover_the_new_metrics(random_cases):
    case = random_cases[0]
    result = evaluate(case, segment_length_s=1.0, auroc_max_fpr=0.2, bootstrap=30)
    for name in ("collar_error_rate", "intersection_error_rate", "clip_f1", "clip_auroc", "segment_f1", "segment_error_rate",
                 "segment_auroc"):
        mean, low, high = result.confidence_intervals[name]
        assert low <= mean <= high and low < high, name


def test_auroc_in_chunks_of_points_stopping_past_max_fpr_equals_one_pass(monkeypatch):
    """Summing a few scores at a time and stopping once every resample's FPR reached max_fpr changes no value."""
    from tbfl.evaluation.metrics import items as items_module

    rng = np.random.default_rng(3)
    n_clips, per_clip = 40, 5
    clip = np.repeat(np.arange(n_clips), per_clip)
    scores = np.round(rng.uniform(0, 1, (len(clip), 4)), 2)
    positive = rng.uniform(0, 1, (len(clip), 4)) < 0.3
    items = ItemStatistics(("a", "b", "c", "d"), scores, positive, clip, n_clips)
    weights = rng.integers(0, 3, (5, n_clips))
    whole = {max_fpr: (items.auroc(max_fpr), items.auroc(max_fpr, clip_weights=weights)) for max_fpr in (None, 0.05, 0.3)}
    monkeypatch.setattr(items_module, "_POINTS_PER_CHUNK", 3)
    for max_fpr, (one, resampled) in whole.items():
        assert 0 < one.mean < 1
        np.testing.assert_allclose(items.auroc(max_fpr).per_class, one.per_class, atol=1e-12)
        for chunked, single in zip(items.auroc(max_fpr, clip_weights=weights), resampled):
            np.testing.assert_allclose(chunked.per_class, single.per_class, atol=1e-12)


def test_a_resample_counts_each_item_as_often_as_its_clip_is_drawn():
    rng = np.random.default_rng(0)
    n_clips, per_clip = 7, 4
    clip = np.repeat(np.arange(n_clips), per_clip)
    scores = np.round(rng.uniform(0, 1, (len(clip), 3)), 1)  # ties between items of both kinds
    positive = rng.uniform(0, 1, (len(clip), 3)) < 0.4
    items = ItemStatistics(("a", "b", "c"), scores, positive, clip, n_clips)
    weights = rng.integers(0, 3, (4, n_clips))
    for max_fpr in (None, 0.3):
        for w, resampled in zip(weights, items.auroc(max_fpr, clip_weights=weights)):
            drawn = np.repeat(np.arange(len(clip)), w[clip])
            copy = ItemStatistics(items.classes, scores[drawn], positive[drawn], clip[drawn], n_clips)
            np.testing.assert_allclose(resampled.per_class, copy.auroc(max_fpr).per_class, atol=1e-12, equal_nan=True)
            tp, n_sys, n_pos = copy.counts(0.5)
            assert np.array_equal(w @ items.clip_counts(0.5)[0], tp) and np.array_equal(w @ items.clip_counts(0.5)[1], n_sys)
            assert np.array_equal(w @ items.clip_counts(0.5)[2], n_pos)


def test_settings_are_checked(random_cases):
    case = random_cases[0]
    with pytest.raises(ValueError, match="segment length"):
        evaluate(case, segment_length_s=0.0)
    with pytest.raises(ValueError, match="max_fpr"):
        evaluate(case, auroc_max_fpr=1.5)


def test_pipsds_reuses_the_main_filter_s_rocs_and_equals_separate_passes_under_the_bootstrap(random_cases):
    """The filter length of the main evaluation is not evaluated again; the bootstrap's lower eFPR floor changes nothing."""
    from tbfl.evaluation.metrics.intersection_based import postprocessing_independent_psds

    case = random_cases[1]
    lengths_s = (0.0, 0.45, 1.0)
    result = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                             median_filter_s=0.45, bootstrap=5, pipsds_filters_s=lengths_s)
    separate = [evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                                median_filter_s=length_s) for length_s in lengths_s]
    n_ref = case.events["event_label"].value_counts().reindex(case.classes, fill_value=0).to_numpy()
    for name, scenario in (("psds1", PSDS1), ("psds2", PSDS2)):
        expected = postprocessing_independent_psds(
            case.classes, [getattr(r, f"{name}_threshold_free").class_rocs for r in separate], n_ref,
            alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr)
        assert getattr(result, f"pi{name}").value == pytest.approx(expected.value, abs=1e-12)
        assert getattr(result, f"pi{name}").value > max(getattr(r, f"{name}_threshold_free").value for r in separate) - 1e-12


@pytest.mark.parametrize("case_index", range(2))
def test_pipsds_matches_sed_scores_eval_on_the_same_filtered_scores(random_cases, case_index):
    case = random_cases[case_index]
    filters_s = (0.0, 0.45, 1.0)
    result = evaluate(case, pipsds_filters_s=filters_s)
    filtered = [median_filter_clips(case.scores, median_filter_frames(length_s, case.frame_hop_s)) for length_s in filters_s]
    for name, scenario in (("pipsds1", PSDS1), ("pipsds2", PSDS2)):
        value, per_class = sed_scores_eval_pipsds(
            filtered, case.events, case.durations, case.classes, case.frame_hop_s, dtc=scenario.dtc, gtc=scenario.gtc,
            cttc=scenario.cttc, alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr)
        mine = getattr(result, name)
        assert mine.value == pytest.approx(value, abs=1e-12)
        assert mine.per_class == pytest.approx([per_class[c] for c in case.classes], abs=1e-12)
    # At least as high as the threshold-free PSDS of any one of its filters.
    for length_s in filters_s:
        single = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                                 median_filter_s=length_s)
        assert result.pipsds1.value >= single.psds1_threshold_free.value - 1e-12
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["pipsds2"] == pytest.approx(result.pipsds2.value)


@pytest.mark.parametrize("main_filter_s", [0.45, 0.2], ids=["main-filter-reused", "main-filter-not-in-the-set"])
def test_pipsds_resamples_match_sed_scores_eval_s_bootstrap(random_cases, monkeypatch, main_filter_s):
    """With sed_scores_eval's resamples (5 folds x 4 iterations) drawn, each resample's piPSDS is its value."""
    from sed_scores_eval import intersection_based

    from tbfl.evaluation import blocks
    from tbfl.evaluation.bootstrap import sed_scores_eval_clip_weights
    from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_inputs

    case = random_cases[0]
    monkeypatch.setattr(blocks, "resampled_clip_weights", lambda n_clips, n_resamples, seed: sed_scores_eval_clip_weights(n_clips, 5, 4))
    filters_s = (0.0, 0.45, 1.0)
    result = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                             median_filter_s=main_filter_s, bootstrap=20, pipsds_filters_s=filters_s, pipsds_intervals=True, jobs=2)
    weights = sed_scores_eval_clip_weights(len(case.durations), 5, 4)
    clip_ids = sorted(case.durations)
    labels = case.events["event_label"].to_numpy()
    clips = np.array([clip_ids.index(f[:-4]) for f in case.events["filename"]])
    # A resample where a class has no event: tbfl leaves the class out (as for the point value), sed_scores_eval
    # averages it in with a TPR of 0; every other resample is equal.
    all_classes = np.array([all((w[clips] * (labels == c)).sum() > 0 for c in case.classes) for w in weights])
    assert all_classes.sum() >= 12
    tables = [sed_scores_eval_inputs(median_filter_clips(case.scores, median_filter_frames(length_s, case.frame_hop_s)),
                                     case.events, case.classes, case.frame_hop_s)[0] for length_s in filters_s]
    reference = sed_scores_eval_inputs(case.scores, case.events, case.classes, case.frame_hop_s)[1]
    for name, scenario in (("pipsds1", PSDS1), ("pipsds2", PSDS2)):
        theirs = np.array(intersection_based.bootstrapped_postprocessing_independent_psds(
            None, reference, case.durations, postprocessing_functions=[None] * len(filters_s), scores_processed=tables,
            dtc_threshold=scenario.dtc, gtc_threshold=scenario.gtc, cttc_threshold=scenario.cttc if scenario.alpha_ct > 0 else None,
            alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr, n_folds=5, n_iterations=4,
        )[0], dtype=float)
        ours = result.resampled_values[name]
        assert np.allclose(ours[all_classes], theirs[all_classes], atol=1e-9, rtol=0)
        assert (ours[~all_classes] > theirs[~all_classes]).all()
        assert np.ptp(ours) > 0.01  # the resamples differ
        assert result.confidence_intervals[name][1] < getattr(result, name).value < result.confidence_intervals[name][2]


def test_pipsds_intervals_are_asked_for_and_need_filters_and_a_bootstrap(random_cases):
    case = random_cases[1]
    plain = evaluate(case, bootstrap=4, pipsds_filters_s=(0.0, 1.0))
    assert plain.pipsds2 is not None and "pipsds2" not in plain.confidence_intervals  # a resampled pass per filter costs
    resampled = evaluate(case, bootstrap=4, pipsds_filters_s=(0.0, 1.0), pipsds_intervals=True)
    assert resampled.pipsds2.value == plain.pipsds2.value and len(resampled.resampled_values["pipsds2"]) == 4
    for options in ({"pipsds_filters_s": (0.0,)}, {"bootstrap": 4}):
        with pytest.raises(ValueError, match="piPSDS intervals need"):
            evaluate(case, pipsds_intervals=True, **options)


def test_cli_reports_the_new_metrics_in_the_table_and_the_json(tmp_path, random_cases, capsys):
    case = random_cases[2]
    write_scores(tmp_path / "scores", case.scores, case.classes, case.frame_hop_s)
    rows = [(f, f"{on:.3f}", f"{off:.3f}", label) for f, on, off, label in case.events.itertuples(index=False)]
    rows += [(f"{clip}.wav", "", "", "") for clip in case.scores if not (case.events["filename"] == f"{clip}.wav").any()]
    (tmp_path / "gt.tsv").write_text("filename\tonset\toffset\tevent_label\n" + "".join("\t".join(r) + "\n" for r in rows))
    (tmp_path / "durations.tsv").write_text(
        "filename\tduration\n" + "".join(f"{clip}.wav\t{seconds}\n" for clip, seconds in case.durations.items()))
    common = ["evaluate", "--scores", str(tmp_path / "scores"), "--ground-truth", str(tmp_path / "gt.tsv"),
              "--durations", str(tmp_path / "durations.tsv"), "--no-progress", "--median-filter-s", "0"]
    assert main([*common, "--segment-length-s", "1", "--auroc-max-fpr", "0.1", "--pipsds", "0,0.45",
                 "--bootstrap", "20", "--pipsds-intervals", "--out", str(tmp_path / "m.json")]) == 0
    written = json.loads((tmp_path / "m.json").read_text())
    expected = evaluate(case, segment_length_s=1.0, auroc_max_fpr=0.1, pipsds_filters_s=(0.0, 0.45), bootstrap=20,
                        pipsds_intervals=True)
    for key in ("segment_f1", "segment_error_rate", "segment_auroc", "clip_f1", "clip_auroc", "collar_error_rate",
                "intersection_error_rate", "pipsds1", "pipsds2"):
        assert written[key] == pytest.approx(expected.to_dict()[key], abs=1e-9), key
    assert "segment_auroc" in written["confidence_intervals"]
    assert written["confidence_intervals"]["pipsds2"] == pytest.approx(expected.to_dict()["confidence_intervals"]["pipsds2"], abs=1e-12)
    table = capsys.readouterr().out
    assert "piPSDS1" in table and "partial AUROC up to FPR 0.1" in table and "segment_auroc" in table
    for bad, word in ((["--segment-length-s", "0"], "segment length"), (["--auroc-max-fpr", "2"], "max_fpr"),
                      (["--pipsds", "--pipsds-intervals"], "--pipsds-intervals needs --pipsds and --bootstrap N")):
        assert main([*common, *bad]) == 2
        message = capsys.readouterr().err.strip().splitlines()
        assert len(message) == 1 and word in message[0], message
    with pytest.raises(SystemExit) as exit_info:  # argparse's usage line and error
        main([*common, "--pipsds", "0,-1"])
    assert exit_info.value.code == 2 and "lengths >= 0" in capsys.readouterr().err


def test_merged_resampled_rocs_are_each_rows_upper_envelope():
    """Rows of different lengths merged at once: at every eFPR up to max_efpr, the best TPR any input point reaches."""
    from tbfl.evaluation.metrics.intersection_based import merge_class_rocs, merge_resampled_class_rocs

    rng = np.random.default_rng(4)

    def roc(n_points):
        efpr = np.concatenate([[0.0], np.sort(rng.uniform(0, 150, n_points))])
        return efpr, np.concatenate([[0.0], np.sort(rng.uniform(0, 1, n_points))])

    max_efpr = 100.0
    inputs = [[[roc(int(rng.integers(0, 30))) for _ in range(3)] for _ in range(5)] for _ in range(2)]  # [p][r][c]
    merged = merge_resampled_class_rocs(inputs, max_efpr)
    grid = np.linspace(0, max_efpr, 2001)
    for r in range(5):
        assert [tuple(map(list, m)) for m in merged[r]] == [tuple(map(list, m)) for m in merge_class_rocs([p[r] for p in inputs], max_efpr)]
        for c in range(3):
            efpr = np.concatenate([p[r][c][0] for p in inputs])
            tpr = np.concatenate([p[r][c][1] for p in inputs])
            best = np.array([tpr[efpr <= x].max() for x in grid])
            got_efpr, got_tpr = merged[r][c]
            assert got_efpr.max() <= max_efpr
            assert np.array_equal(got_tpr[np.searchsorted(got_efpr, grid, side="right") - 1], best)
