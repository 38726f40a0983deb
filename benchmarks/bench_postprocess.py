"""Post-processing on a simulated DESED-like case: fixed median filter, tuned median filters, tuned SEBBs.

``--clips`` simulated 10 s clips (10 classes, 156 frames of 64 ms) are split
in two halves: every tuning (median filter lengths, SEBB settings, per-class
thresholds) uses the first half only, every number printed is on the second.
Tuning maximises each class's threshold-free PSDS1; thresholds maximise each
class's event F1. Run:
``.venv/bin/python benchmarks/bench_postprocess.py [--clips 400] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import time

from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.simulate import simulate_case
from tbfl.evaluation.postprocessing.params import PostprocessParams
from tbfl.evaluation.postprocessing.tuning import tune_median_filters, tune_sebbs, tune_thresholds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    case = simulate_case(args.clips, seed=args.seed)
    clips = sorted(case.scores)
    halves = []
    for part in (clips[: len(clips) // 2], clips[len(clips) // 2 :]):
        files = {f"{c}.wav" for c in part}
        halves.append(({c: case.scores[c] for c in part}, case.events[case.events["filename"].isin(files)],
                       {c: case.durations[c] for c in part}))
    (tune_scores, tune_events, tune_durations), (test_scores, test_events, test_durations) = halves
    options = dict(frame_hop_s=case.frame_hop_s)
    tuning_set = (tune_scores, tune_events, tune_durations)

    start = time.perf_counter()
    fixed = PostprocessParams(case.classes, (7,) * len(case.classes), case.frame_hop_s, "none",
                              tuple(tune_durations))
    methods = {"fixed median filter 7 frames": fixed}
    methods["tuned median filters"] = tune_median_filters(*tuning_set, case.classes, **options)[0]
    median_s = time.perf_counter() - start
    methods["tuned SEBBs"] = tune_sebbs(*tuning_set, case.classes, **options)[0]
    sebb_s = time.perf_counter() - median_s - start
    methods = {name: tune_thresholds(params, *tuning_set)[0] for name, params in methods.items()}

    print(f"{args.clips} simulated clips (seed {args.seed}): tuned on {len(tune_scores)}, evaluated on "
          f"{len(test_scores)} ({len(test_events)} events); tuning took {median_s:.0f} s (median) and {sebb_s:.0f} s (SEBB)")
    header = (f"{'post-processing':<30} {'PSDS1':>6} {'PSDS1 tf':>8} {'PSDS2':>6} {'PSDS2 tf':>8} "
              f"{'F1@0.5':>6} {'F1 tuned thr':>12} {'inter F1':>8}")
    print(header + "\n" + "-" * len(header))
    for name, params in methods.items():
        r = evaluate_scores(test_scores, test_events, test_durations, case.classes, postprocess=params, **options)
        print(f"{name:<30} {r.psds1.value:>6.3f} {r.psds1_threshold_free.value:>8.3f} {r.psds2.value:>6.3f} "
              f"{r.psds2_threshold_free.value:>8.3f} {r.event_f1.f1_macro:>6.3f} "
              f"{r.event_f1_tuned_thresholds.f1_macro:>12.3f} {r.intersection_f1.f1_macro:>8.3f}")
    for name in ("tuned median filters", "tuned SEBBs"):
        params = methods[name]
        chosen = params.median_filter_frames if params.sebb is None else [
            (p.step_filter_frames, p.merge_threshold_abs, p.merge_threshold_rel) for p in params.sebb]
        print(f"{name}: {chosen}")


if __name__ == "__main__":
    main()
