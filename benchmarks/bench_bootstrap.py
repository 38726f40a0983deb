"""Cost of ``evaluate_scores(..., bootstrap=N)`` against one plain evaluation, measured in one process.

The case: ``--clips`` simulated 10 s DESED-like clips (10 classes, 156 frames).
A resample reuses the intersection count changes and costs a weighted sum
and a PSDS, so N resamples cost far less than N evaluations.
Run: ``.venv/bin/python benchmarks/bench_bootstrap.py [--clips 200] [--resamples 200]``.
"""

from __future__ import annotations

import argparse
import time

from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.simulate import simulate_case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=200)
    args = parser.parse_args()
    case = simulate_case(args.clips, seed=3, events_per_clip=3.0)
    options = dict(frame_hop_s=case.frame_hop_s)
    start = time.perf_counter()
    evaluate_scores(case.scores, case.events, case.durations, case.classes, **options)
    one_s = time.perf_counter() - start
    start = time.perf_counter()
    result = evaluate_scores(case.scores, case.events, case.durations, case.classes, bootstrap=args.resamples, **options)
    boot_s = time.perf_counter() - start
    print(f"{args.clips} clips: one evaluation {one_s:.2f} s; with bootstrap={args.resamples}: {boot_s:.2f} s "
          f"= {boot_s / one_s:.1f} evaluations ({args.resamples} evaluations would take {args.resamples * one_s:.0f} s)")
    print("\n".join(result.format_table().splitlines()[-6:]))


if __name__ == "__main__":
    main()
