"""Evaluation speed on a DESED-sized case, as ratios to the reference libraries, and a check that the numbers agree.

The case: 1,168 simulated 10 s clips (about 4,200 reference events, 156 frames,
10 classes) with scores that follow the reference events noisily. Both sides
start from the same median-filtered scores and do the same work:

- event-based F1 at the 50 thresholds 0.01 ... 0.99 (sed_eval, clip by clip);
- PSDS1 and PSDS2 at those 50 operating points (psds_eval);
- threshold-free PSDS1 and PSDS2 (sed_scores_eval, 1 job);
- intersection-based F1 at 0.5 (psds_eval; sed_scores_eval checks the value).

It also times ``evaluate_scores`` on the first 300 clips, the size of a
validation pass during training.

The references need the detections of each threshold; they get them from
tbfl's decoder (timed apart). Takes about 5 minutes, mostly sed_eval.

Reference times use 3-decimal event times, like DESED: a few detection runs
then overlap their reference event by exactly the DTC (e.g. 0.448 s of a
0.64 s run, 70 %). tbfl counts them, as sed_scores_eval does (times rounded
to 1 µs); psds_eval's float ratio (0.6999999999999998) loses some, so its
fixed-point PSDS can differ by a few 1e-4. The script counts those runs.
Run: ``.venv/bin/python benchmarks/bench_eval.py [--clips N]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from tbfl.evaluation.evaluate import DEFAULT_THRESHOLDS, PSDS1, PSDS2, evaluate_scores
from tbfl.evaluation.metrics.collar_based import collar_counts
from tbfl.evaluation.metrics.collar_based.reference import sed_eval_event_based
from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import intersection_curves, psds_threshold_free
from tbfl.evaluation.metrics.intersection_based.reference import (
    psds_eval_macro_f1, psds_eval_psds, sed_scores_eval_intersection_f1, sed_scores_eval_psds,
)
from tbfl.evaluation.postprocessing.frames import decode_events, median_filter_clips
from tbfl.evaluation.scores import clip_id


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1168, help="number of clips (default 1168, DESED validation)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from tbfl.evaluation.simulate import simulate_case

    case = simulate_case(args.clips, seed=0, events_per_clip=4.0)
    classes, hop_s, durations = case.classes, case.frame_hop_s, case.durations
    clip_ids = tuple(sorted(durations))
    print(f"case: {len(clip_ids)} clips, {len(case.events)} reference events, {len(classes)} classes, 156 frames, 50 thresholds")

    # ---- tbfl: the whole suite in one call, then its parts
    result, ours_total = timed(evaluate_scores, case.scores, case.events, durations, classes, frame_hop_s=hop_s)
    filtered = median_filter_clips(case.scores, result.settings.median_filter_frames)
    events = case.events.assign(clip_id=[clip_id(f) for f in case.events["filename"]])
    reference = GroundTruth.from_events(events, clip_ids, classes)
    duration_s = np.array([durations[c] for c in clip_ids])

    def runs():
        grid = ScoreGrid.from_scores(filtered, clip_ids, hop_s)
        return grid, detection_intervals(grid, duration_s)

    def ours_sweep():
        _, intervals = runs()
        return collar_counts(intervals, reference, classes, DEFAULT_THRESHOLDS)

    def ours_psds(scenario):
        grid, intervals = runs()
        curves = intersection_curves(
            intervals, reference, classes,
            dtc=scenario.dtc, gtc=scenario.gtc, cttc=scenario.cttc if scenario.alpha_ct > 0 else None,
        )
        return psds_threshold_free(
            curves, float(duration_s.sum()), alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr,
        )

    _, ours_sweep_s = timed(ours_sweep)
    _, ours_psds1_s = timed(ours_psds, PSDS1)
    _, ours_psds2_s = timed(ours_psds, PSDS2)

    # ---- references
    detections, decode_s = timed(lambda: [decode_events(filtered, t, classes, frame_hop_s=hop_s) for t in DEFAULT_THRESHOLDS])
    at_half = decode_events(filtered, 0.5, classes, frame_hop_s=hop_s)
    sed_eval_f1, sed_eval_s = timed(
        lambda: [sed_eval_event_based(case.events, d, clip_ids, classes)["f1_macro"] for d in detections]
    )
    psds_eval_values, psds_eval_times = {}, {}
    sse_values, sse_times = {}, {}
    for name, scenario in (("PSDS1", PSDS1), ("PSDS2", PSDS2)):
        options = dict(dtc=scenario.dtc, gtc=scenario.gtc, cttc=scenario.cttc, alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st)
        psds_eval_values[name], psds_eval_times[name] = timed(psds_eval_psds, case.events, durations, detections, **options)
        (sse_values[name], _), sse_times[name] = timed(sed_scores_eval_psds, filtered, case.events, durations, classes, hop_s, **options)
    (_, psds_eval_f1_per_class), psds_eval_f1_s = timed(psds_eval_macro_f1, case.events, durations, at_half)
    psds_eval_f1 = float(np.mean(np.nan_to_num(list(psds_eval_f1_per_class.values()))))  # its NaN (no TP) as 0
    sse_f1, _ = sed_scores_eval_intersection_f1(filtered, case.events, classes, hop_s, 0.5)
    references_total = sed_eval_s + sum(psds_eval_times.values()) + sum(sse_times.values()) + psds_eval_f1_s

    # ---- runs lying exactly on a DTC (where psds_eval's float ratios and the 1 µs rule can disagree)
    grid, intervals = runs()
    overlap = reference.cumulative_overlap(grid.boundaries_s())
    own = np.round(overlap[intervals.row, intervals.off_frame] - overlap[intervals.row, intervals.on_frame], 6)
    length_s = intervals.offset_s - intervals.onset_s
    on_dtc = {dtc: int(np.sum(own == np.round(dtc * length_s, 6))) for dtc in (0.7, 0.5, 0.1)}

    # ---- numbers
    ours_f1 = result.event_f1_sweep.f1_macro()
    checks = [
        ("event F1 at 50 thresholds (max |diff|)", float(np.max(np.abs(ours_f1 - np.array(sed_eval_f1))))),
        ("PSDS1, 50 operating points", abs(result.psds1.value - psds_eval_values["PSDS1"])),
        ("PSDS2, 50 operating points", abs(result.psds2.value - psds_eval_values["PSDS2"])),
        ("PSDS1, threshold-free", abs(result.psds1_threshold_free.value - sse_values["PSDS1"])),
        ("PSDS2, threshold-free", abs(result.psds2_threshold_free.value - sse_values["PSDS2"])),
        ("intersection F1 at 0.5 (psds_eval, its NaN as 0)", abs(result.intersection_f1.f1_macro - psds_eval_f1)),
        ("intersection F1 at 0.5 (sed_scores_eval)", abs(result.intersection_f1.f1_macro - sse_f1)),
    ]
    print(f"\nvalues: PSDS1 {result.psds1.value:.4f} (threshold-free {result.psds1_threshold_free.value:.4f}), "
          f"PSDS2 {result.psds2.value:.4f} ({result.psds2_threshold_free.value:.4f}), "
          f"event F1 {result.event_f1.f1_macro:.4f} (best {result.event_f1_best.f1_macro:.4f} at "
          f"{result.event_f1_best.thresholds[0]:g}), intersection F1 {result.intersection_f1.f1_macro:.4f}")
    print("detection runs exactly on the DTC: " + ", ".join(f"{n} at {dtc}" for dtc, n in on_dtc.items())
          + f" of {len(intervals.row)} (psds_eval may lose these)")
    print(f"\n{'agreement with the reference':<52} {'|diff|':>9}")
    for name, difference in checks:
        print(f"{name:<52} {difference:9.1e}")

    print(f"\n{'work':<44} {'tbfl s':>8} {'reference s':>12} {'ratio':>8}")
    rows = [
        ("event F1, 50 thresholds (sed_eval)", ours_sweep_s, sed_eval_s),
        ("PSDS1 threshold-free (sed_scores_eval)", ours_psds1_s, sse_times["PSDS1"]),
        ("PSDS2 threshold-free (sed_scores_eval)", ours_psds2_s, sse_times["PSDS2"]),
        ("PSDS1, 50 operating points (psds_eval)", ours_psds1_s, psds_eval_times["PSDS1"]),
        ("PSDS2, 50 operating points (psds_eval)", ours_psds2_s, psds_eval_times["PSDS2"]),
        ("full suite (evaluate_scores) vs all of the above", ours_total, references_total),
    ]
    for name, ours_s, reference_s in rows:
        print(f"{name:<44} {ours_s:8.2f} {reference_s:12.2f} {reference_s / ours_s:7.1f}x")
    first_300 = {clip: case.scores[clip] for clip in clip_ids[:300]}
    events_300 = case.events[case.events["filename"].isin([f"{clip}.wav" for clip in first_300])]
    times_300 = [timed(evaluate_scores, first_300, events_300, {c: durations[c] for c in first_300}, classes)[1] for _ in range(5)]
    print(f"{'evaluate_scores on 300 clips (median of 5)':<44} {np.median(times_300):8.2f}")
    print(f"(the references also needed {decode_s:.2f} s to decode the 50 thresholds with tbfl's decoder, not counted;"
          f" psds_eval intersection F1 took {psds_eval_f1_s:.2f} s)")


if __name__ == "__main__":
    main()
