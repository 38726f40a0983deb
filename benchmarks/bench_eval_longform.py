"""Peak memory of ``evaluate`` on one long recording: linear in its frames, or not.

A long-form case (MAESTRO-like recordings are minutes long): one clip of
``--minutes`` at 64 ms frames (56,250 frames an hour), 10 classes and
``--events-per-hour`` reference events (200 an hour, 0.2-10 s each, the
same class never overlapping itself), scores from
:func:`tbfl.evaluation.simulate.simulate_array_case`. Each measurement runs
``evaluate_scores`` (every metric: PSDS1/2 at the 50 points and
threshold-free, the event-F1 sweep, intersection F1) in a child process of
its own (spawned, with an address-space cap) and reports its wall time and
the growth of its peak resident memory (ru_maxrss) over the memory held once
the case is made, so the scores themselves do not count.

Run: ``python benchmarks/bench_eval_longform.py`` (60 and 120 minutes, with the
default 0.45 s median filter and without one; a few minutes). The ratio
"bytes per frame" is the peak growth divided by the frames of all classes:
a constant ratio from 1 to 2 hours means memory linear in the frames.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
import warnings


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def child(minutes: float, events_per_hour: float, median_filter_s: float, limit_gb: float, psds_only: bool, queue) -> None:
    from tbfl.evaluation.evaluate import evaluate_psds, evaluate_scores
    from tbfl.evaluation.simulate import simulate_array_case

    warnings.simplefilter("ignore")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = int(limit_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard),) * 2)
    hop_s = 0.064
    n_frames = int(round(minutes * 60 / hop_s))
    case = simulate_array_case(1, 10, n_frames=n_frames, frame_hop_s=hop_s,
                               events_per_clip=events_per_hour * minutes / 60, max_event_s=10.0, seed=0)
    baseline = rss_gb()
    start = time.perf_counter()
    try:
        if psds_only:
            result = evaluate_psds(case.score_dict(), case.events, case.durations, case.classes,
                                   frame_hop_s=hop_s, median_filter_s=median_filter_s)
            values = {name: psds.value for name, psds in result.items()}
        else:
            result = evaluate_scores(case.score_dict(), case.events, case.durations, case.classes,
                                     frame_hop_s=hop_s, median_filter_s=median_filter_s)
            values = {name: result.to_dict()[name] for name in ("psds1", "psds2", "event_f1", "intersection_f1")}
    except MemoryError:
        queue.put({"error": f"MemoryError at the {limit_gb:g} GB cap"})
        return
    queue.put({"seconds": time.perf_counter() - start, "growth_gb": rss_gb() - baseline, "baseline_gb": baseline,
               "n_frames": n_frames * len(case.classes), "n_events": len(case.events), "values": values})


def run(*args) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=child, args=(*args, queue))
    process.start()
    while process.is_alive() and queue.empty():
        time.sleep(0.5)
    if not queue.empty():
        report = queue.get()
        process.join()
        return report
    return {"error": f"child ended with exit code {process.exitcode} (killed for memory?)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="60,120", help="comma-separated clip lengths in minutes (default 60,120)")
    parser.add_argument("--events-per-hour", type=float, default=200.0)
    parser.add_argument("--median-filters-s", default="0.45,0", help="comma-separated median filter lengths (default 0.45,0)")
    parser.add_argument("--psds-only", action="store_true", help="evaluate_psds (the lean call) instead of the full suite")
    parser.add_argument("--limit-gb", type=float, default=16.0, help="address-space cap of each child (default 16)")
    args = parser.parse_args()
    print(f"{'minutes':>7} {'filter s':>8} {'frames':>9} {'events':>6} {'wall s':>7} {'peak growth GB':>15} {'bytes/frame':>11}")
    for median_filter_s in (float(x) for x in args.median_filters_s.split(",")):
        for minutes in (float(x) for x in args.minutes.split(",")):
            report = run(minutes, args.events_per_hour, median_filter_s, args.limit_gb, args.psds_only)
            if "error" in report:
                print(f"{minutes:7g} {median_filter_s:8g}  {report['error']}")
                continue
            print(f"{minutes:7g} {median_filter_s:8g} {report['n_frames']:9d} {report['n_events']:6d} "
                  f"{report['seconds']:7.1f} {report['growth_gb']:15.2f} {report['growth_gb'] * 1e9 / report['n_frames']:11.0f}")
            print(f"        values: " + ", ".join(f"{k} {v:.6f}" for k, v in report["values"].items()))


if __name__ == "__main__":
    main()
