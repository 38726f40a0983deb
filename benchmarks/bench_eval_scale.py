"""PSDS at AudioSet-strong scale: time and peak memory of 15,000 clips x 400 classes x 100 frames, and sed_scores_eval on subsets.

sed_scores_eval's PSDS2 on AudioSet-strong's evaluation set (about 15k clips,
300-400 classes, cross-triggers on) ran past 150 GB and did not finish (its
issue #5). This script measures tbfl on a generated case of that size.

The case: ``simulate_array_case`` (``tbfl.evaluation.simulate``): Zipf-like
class frequencies, about 7 events per clip of log-uniform length (0.1-10 s),
scores = sigmoid of smoothed noise plus a bump over each event, 0.1 s frames;
made in memory as one float32 array (2.4 GB at full size) and handed to
``evaluate_psds`` as per-clip views (arrays, not TSV files nor the NPZ store).

What is computed, on both sides from the same scores, no median filter:
PSDS1 (dtc = gtc = 0.7, no cross-triggers) and PSDS2 (dtc = gtc = 0.1,
cttc = 0.3, alpha_ct = 0.5), alpha_st = 1, max_efpr = 100 per hour.
tbfl's ``evaluate_psds`` computes each threshold-free (every threshold, as
sed_scores_eval) and at the 50 operating points 0.01 ... 0.99 (as psds_eval
from 50 detection lists), all four in one pass; no F1, no bootstrap.
sed_scores_eval (1 job) computes the threshold-free values, one scenario per
run. The values must agree within 1e-9 (overall and per class).

Each measurement runs in a child process of its own (spawned, nothing
inherited) that makes its case from the seed and reports, per stage, the
wall time and its peak resident memory (ru_maxrss) at the end of the stage;
every child gets an address-space limit (``--limit-gb``, tbfl's at the
16 GB target) and the references a timeout, so that a blow-up ends as
"did not finish" instead of taking the machine.

Run: ``python benchmarks/bench_eval_scale.py`` (full size and a 400 x 100
subset, about 5 minutes); smoke: ``--clips 1000 --subsets 120x40``; more
subsets: ``--subsets 400x100,100x400`` (sed_scores_eval's PSDS2 at 100 x 400
needs about 10 GB).

The full suite (``--suite 100,300,1500``): ``evaluate_scores`` on cases of
that many clips x ``--classes`` x ``--frames`` (seed + 2), every metric
(PSDS1/2 both point sets, the event-F1 sweep, intersection F1; add
``--bootstrap N`` for the intervals), each size in a child of its own with
``--suite-limit-gb`` of address space (default 8). ``--suite-json DIR``
writes each result's ``to_dict()`` there (to compare two versions of tbfl);
``--frames-per-block N`` passes that block size. E.g.
``--skip-full --subsets '' --suite 100,300,1500``. ``--every-metric`` adds
the segment-based family (1 s), the partial AUROC (max_fpr 0.1) and piPSDS
(``--pipsds-filters-s``; with ``--pipsds-intervals`` and ``--bootstrap``, piPSDS resampled too); ``--store DIR`` writes each suite case to a score
store and evaluates it memory-mapped (as ``tbfl evaluate --scores x.npz``); ``--jobs N`` evaluates
with N forked workers (``tbfl evaluate --jobs N``) and adds the peak PSS of the process and its workers
together. The AudioSet-strong figure: ``--skip-full --subsets '' --suite 15000 --every-metric
--bootstrap 100 --jobs 2 --store DIR --suite-limit-gb 20``. ``--items 300x100``
compares the segment-based (1 s) and clip-based F1 and partial AUROC (max_fpr 0.1) with
sed_scores_eval on that case (tbfl's time is that of the whole suite).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
import warnings

import numpy as np


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its ended children (the workers of ``jobs``)."""
    return sum(sum(resource.getrusage(who)[:2]) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def make_case(size):
    from tbfl.evaluation.simulate import simulate_array_case

    n_clips, n_classes, n_frames, seed = size
    return simulate_array_case(n_clips, n_classes, n_frames=n_frames, seed=seed)


class ProcessTreeMemory:
    """The peak, over time, of the summed proportional set size (PSS: shared pages split between their sharers) of this
    process and its children (the forked workers of ``jobs``), sampled every 0.2 s from /proc/PID/smaps_rollup."""

    def __init__(self) -> None:
        import threading

        self.peak_gb, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "ProcessTreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import os
        from pathlib import Path

        me = os.getpid()
        while not self._stop.wait(0.2):
            total_kb = 0
            children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
            for pid in [me, *children]:
                try:
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                    total_kb += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
                except (OSError, StopIteration):
                    pass  # a worker that just ended
            self.peak_gb = max(self.peak_gb, total_kb * 1024 / 1e9)


def limit_memory(limit_gb: float) -> None:
    """Cap this process's address space at ``limit_gb`` (or the cap it already has, if lower)."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = int(limit_gb * 2**30) if hard == resource.RLIM_INFINITY else min(int(limit_gb * 2**30), hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def child_case(size, limit_gb):
    """In a child: warnings off, address space capped, the case made; returns it and the stage list (one stage)."""
    warnings.simplefilter("ignore")
    limit_memory(limit_gb)
    start = time.perf_counter()
    case = make_case(size)
    return case, [("make the case", time.perf_counter() - start, peak_gb())]


def tbfl_child(size, limit_gb, queue) -> None:
    """Make the case, then ``evaluate_psds``; report stages and values."""
    from tbfl.evaluation.evaluate import evaluate_psds

    case, stages = child_case(size, limit_gb)
    start = time.perf_counter()
    result = evaluate_psds(case.score_dict(), case.events, case.durations, case.classes,
                           frame_hop_s=case.frame_hop_s, median_filter_s=0.0)
    stages.append(("tbfl evaluate_psds: PSDS1 + PSDS2, threshold-free + 50 points", time.perf_counter() - start, peak_gb()))
    values = {name: (psds.value, psds.per_class.tolist()) for name, psds in result.items()}
    queue.put({"stages": stages, "values": values, "n_events": len(case.events)})


def suite_child(size, limit_gb, options, queue) -> None:
    """Make the case, then ``evaluate_scores`` (the full suite); report stages and the result's ``to_dict()``.

    ``options["store"]``: a folder; the case is written there as a score store, dropped from memory,
    and evaluated from the memory-mapped store. The other options go to ``evaluate_scores``.
    """
    import gc
    from pathlib import Path

    from tbfl.evaluation.evaluate import evaluate_scores
    from tbfl.evaluation.scores import read_score_store, write_score_store

    options = dict(options)
    store = options.pop("store", None)
    case, stages = child_case(size, limit_gb)
    events, durations, classes, hop_s = case.events, case.durations, case.classes, case.frame_hop_s
    scores, times_s = case.score_dict(), None
    if store is not None:
        path = Path(store) / f"suite_{size[0]}x{size[1]}.npz"
        start = time.perf_counter()
        n_frames = case.scores.shape[2]
        write_score_store(path, scores, dict.fromkeys(case.clip_ids, np.arange(n_frames + 1) * hop_s), classes)
        del case, scores
        gc.collect()
        scores, times_s, classes = read_score_store(path)
        stages.append(("write the score store, drop the case, map the store", time.perf_counter() - start, peak_gb()))
    start, cpu_start_s = time.perf_counter(), cpu_seconds()
    try:
        with ProcessTreeMemory() as tree:
            result = evaluate_scores(scores, events, durations, classes, frame_hop_s=hop_s, median_filter_s=0.0,
                                     times_s=times_s, **options)
    except MemoryError:
        queue.put({"stages": stages, "error": f"MemoryError at the {limit_gb:g} GB limit"})
        return
    cpu_s = cpu_seconds() - cpu_start_s
    jobs = options.get("jobs", 1)
    stages.append((f"tbfl evaluate_scores: the full suite, jobs {jobs} (CPU {cpu_s:.0f} s)", time.perf_counter() - start, peak_gb()))
    if jobs > 1:
        stages.append(("  the same, peak PSS of the process and its workers together", time.perf_counter() - start, tree.peak_gb))
    queue.put({"stages": stages, "result": result.to_dict(), "n_events": len(events)})


def reference_child(size, scenario_name, limit_gb, queue) -> None:
    """Make the case, then sed_scores_eval's threshold-free PSDS of one scenario; report stages and values."""
    from tbfl.evaluation.metrics.intersection_based.reference import sed_scores_eval_psds
    from tbfl.evaluation.settings import PSDS1, PSDS2

    scenario = {"psds1": PSDS1, "psds2": PSDS2}[scenario_name]
    case, stages = child_case(size, limit_gb)
    start = time.perf_counter()
    try:
        value, per_class = sed_scores_eval_psds(
            case.score_dict(), case.events, case.durations, case.classes, case.frame_hop_s,
            dtc=scenario.dtc, gtc=scenario.gtc, cttc=scenario.cttc, alpha_ct=scenario.alpha_ct,
            alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr,
        )
    except MemoryError:
        queue.put({"stages": stages, "error": f"MemoryError at the {limit_gb:g} GB limit"})
        return
    stages.append((f"sed_scores_eval {scenario_name.upper()} threshold-free", time.perf_counter() - start, peak_gb()))
    queue.put({"stages": stages, "values": {f"{scenario_name}_threshold_free": (value, [per_class[c] for c in case.classes])}})


def items_child(size, limit_gb, queue) -> None:
    """Make the case, then tbfl's segment- (1 s) and clip-based F1 at 0.5 and partial AUROC (max_fpr 0.1): ``evaluate_scores``."""
    from tbfl.evaluation.evaluate import evaluate_scores

    case, stages = child_case(size, limit_gb)
    start = time.perf_counter()
    result = evaluate_scores(case.score_dict(), case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s,
                             median_filter_s=0.0, segment_length_s=1.0, auroc_max_fpr=0.1)
    stages.append(("tbfl evaluate_scores (the suite, segment- and clip-based included)", time.perf_counter() - start, peak_gb()))
    values = {}
    for family in ("segment", "clip"):
        metrics = getattr(result, f"{family}_based")
        values[f"{family}_f1"], values[f"{family}_auroc"] = metrics.fscore.f1_macro, metrics.auroc.mean
    queue.put({"stages": stages, "values": values})


def items_reference_child(size, limit_gb, queue) -> None:
    """Make the case, then sed_scores_eval's segment- and clip-based F1 and partial AUROC on it."""
    from tbfl.evaluation.metrics.clip_based.reference import sed_scores_eval_clip_based
    from tbfl.evaluation.metrics.segment_based.reference import sed_scores_eval_segment_based

    case, stages = child_case(size, limit_gb)
    values = {}
    for family in ("segment", "clip"):
        start = time.perf_counter()
        try:
            if family == "segment":
                reference = sed_scores_eval_segment_based(case.score_dict(), case.events, case.durations, case.classes,
                                                          case.frame_hop_s, segment_length_s=1.0, threshold=0.5, max_fpr=0.1)
            else:
                reference = sed_scores_eval_clip_based(case.score_dict(), case.events, case.classes, case.frame_hop_s,
                                                       threshold=0.5, max_fpr=0.1)
        except MemoryError:
            queue.put({"stages": stages, "error": f"MemoryError at the {limit_gb:g} GB limit"})
            return
        stages.append((f"sed_scores_eval {family}-based F1, ER and AUROC", time.perf_counter() - start, peak_gb()))
        values[f"{family}_f1"], values[f"{family}_auroc"] = reference["f1"]["mean"], reference["auroc"]["mean"]
    queue.put({"stages": stages, "values": values})


def run_child(target, *args, timeout_s: float | None = None) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    start = time.perf_counter()
    while process.is_alive() and (timeout_s is None or time.perf_counter() - start < timeout_s):
        if not queue.empty():
            break
        time.sleep(0.5)
    if not queue.empty():
        report = queue.get()
        process.join()
        return report
    if process.is_alive():
        process.kill()
        process.join()
        return {"stages": [], "error": f"did not finish in {timeout_s:.0f} s"}
    return {"stages": [], "error": f"child ended with exit code {process.exitcode} (killed for memory?)"}


def print_stages(title: str, report: dict) -> None:
    print(f"\n{title}")
    print(f"  {'stage':<66} {'wall s':>8} {'peak GB':>8}")
    for name, seconds, peak in report["stages"]:
        print(f"  {name:<66} {seconds:8.1f} {peak:8.2f}")
    if "error" in report:
        print(f"  {report['error']}")


def parse_size(text: str) -> tuple[int, int]:
    clips, classes = text.lower().split("x")
    return int(clips), int(classes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=15000, help="clips of the full case (default 15000)")
    parser.add_argument("--classes", type=int, default=400, help="classes of the full case (default 400)")
    parser.add_argument("--frames", type=int, default=100, help="frames per 10 s clip (default 100)")
    parser.add_argument("--subsets", default="400x100",
                        help="comma-separated CLIPSxCLASSES cases compared with sed_scores_eval (default 400x100; '' for none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit-gb", type=float, default=12.0, help="address-space limit of each sed_scores_eval run (default 12)")
    parser.add_argument("--tbfl-limit-gb", type=float, default=16.0, help="address-space limit of each tbfl run (default 16, the target)")
    parser.add_argument("--reference-timeout-s", type=float, default=1800.0)
    parser.add_argument("--skip-full", action="store_true", help="only the subset comparisons")
    parser.add_argument("--suite", default="", help="comma-separated clip counts for evaluate_scores, the full suite "
                        "(--classes x --frames each; default none)")
    parser.add_argument("--suite-limit-gb", type=float, default=8.0, help="address-space limit of each suite run (default 8)")
    parser.add_argument("--suite-json", default=None, help="folder for each suite result's to_dict() (suite_CLIPS.json)")
    parser.add_argument("--bootstrap", type=int, default=0, help="bootstrap resamples of the suite runs (default 0)")
    parser.add_argument("--suite-timeout-s", type=float, default=600.0, help="time limit of each suite run (default 600)")
    parser.add_argument("--frames-per-block", type=int, default=None, help="evaluate_scores' frames_per_block (default its own)")
    parser.add_argument("--jobs", type=int, default=1, help="evaluate_scores' jobs of the suite runs (default 1)")
    parser.add_argument("--every-metric", action="store_true",
                        help="suite runs add segment-based metrics (1 s), partial AUROC (max_fpr 0.1) and piPSDS "
                        "(--pipsds-filters-s)")
    parser.add_argument("--pipsds-filters-s", default="0,0.45,1", help="piPSDS median filters of --every-metric (default 0,0.45,1)")
    parser.add_argument("--pipsds-intervals", action="store_true",
                        help="--every-metric with --bootstrap also resamples piPSDS (evaluate_scores' pipsds_intervals)")
    parser.add_argument("--items", default="", metavar="CLIPSxCLASSES,...",
                        help="cases where segment- and clip-based F1 and partial AUROC are compared with sed_scores_eval")
    parser.add_argument("--store", default=None, metavar="DIR",
                        help="suite runs write their case to a score store in DIR and evaluate it memory-mapped")
    args = parser.parse_args()

    for text in filter(None, args.suite.split(",")):
        size = (int(text), args.classes, args.frames, args.seed + 2)
        options = {"bootstrap": args.bootstrap}
        if args.every_metric:
            options.update(segment_length_s=1.0, auroc_max_fpr=0.1,
                           pipsds_filters_s=tuple(float(x) for x in args.pipsds_filters_s.split(",")),
                           pipsds_intervals=args.pipsds_intervals)
        if args.store is not None:
            options["store"] = args.store
        if args.frames_per_block is not None:
            options["frames_per_block"] = args.frames_per_block
        options["jobs"] = args.jobs
        report = run_child(suite_child, size, args.suite_limit_gb, options, timeout_s=args.suite_timeout_s)
        print_stages(f"full suite: {size[0]} clips x {size[1]} classes x {size[2]} frames "
                     f"({report.get('n_events', '?')} events)", report)
        if "result" in report:
            result = report["result"]
            print("  " + ", ".join(f"{name} {result[name]:.6f}" for name in (
                "psds1", "psds2", "psds1_threshold_free", "psds2_threshold_free", "event_f1", "event_f1_best",
                "intersection_f1", *(k for k in ("segment_f1", "segment_auroc", "clip_auroc", "pipsds1", "pipsds2")
                                     if result.get(k) is not None))))
            if args.suite_json:
                import json
                from pathlib import Path

                Path(args.suite_json).mkdir(parents=True, exist_ok=True)
                (Path(args.suite_json) / f"suite_{size[0]}.json").write_text(json.dumps(result, indent=1))

    for text in filter(None, args.items.split(",")):
        n_clips, n_classes = parse_size(text)
        size = (n_clips, n_classes, args.frames, args.seed + 3)
        ours = run_child(items_child, size, args.tbfl_limit_gb)
        theirs = run_child(items_reference_child, size, args.limit_gb, timeout_s=args.reference_timeout_s)
        print_stages(f"segment- and clip-based, {n_clips} clips x {n_classes} classes: tbfl", ours)
        print_stages(f"segment- and clip-based, {n_clips} clips x {n_classes} classes: sed_scores_eval", theirs)
        for name, value in ours.get("values", {}).items():
            other = theirs.get("values", {}).get(name)
            print(f"  {name:<16} tbfl {value:.9f}" + ("" if other is None else f"  sed_scores_eval {other:.9f}  |diff| {abs(value - other):.1e}"))

    if not args.skip_full:
        size = (args.clips, args.classes, args.frames, args.seed)
        report = run_child(tbfl_child, size, args.tbfl_limit_gb)
        print_stages(f"full case: {args.clips} clips x {args.classes} classes x {args.frames} frames "
                     f"({report.get('n_events', '?')} events)", report)
        for name, (value, _) in report.get("values", {}).items():
            print(f"  {name:<24} {value:.6f}")

    rows = []
    for text in filter(None, args.subsets.split(",")):
        n_clips, n_classes = parse_size(text)
        size = (n_clips, n_classes, args.frames, args.seed + 1)
        ours = run_child(tbfl_child, size, args.tbfl_limit_gb)
        print_stages(f"subset {n_clips} clips x {n_classes} classes ({ours.get('n_events', '?')} events): tbfl", ours)
        for scenario in ("psds1", "psds2"):
            theirs = run_child(reference_child, size, scenario, args.limit_gb, timeout_s=args.reference_timeout_s)
            print_stages(f"subset {n_clips} x {n_classes}: sed_scores_eval {scenario.upper()}", theirs)
            name = f"{scenario}_threshold_free"
            if "values" not in theirs or "values" not in ours:
                rows.append((text, scenario, ours, theirs, None, None))
                continue
            (mine, mine_per_class), (value, per_class) = ours["values"][name], theirs["values"][name]
            rows.append((text, scenario, ours, theirs, (mine, value),
                         float(np.max(np.abs(np.array(mine_per_class) - np.array(per_class))))))

    if rows:
        print(f"\n{'clips x classes':<16} {'':<6} {'sse s':>8} {'sse GB':>7} {'tbfl s':>7} {'tbfl GB':>8} "
              f"{'value':>9} {'|diff|':>8} {'per class':>9}")
        for text, scenario, ours, theirs, values, per_class_diff in rows:
            their_s, their_gb = (theirs["stages"][-1][1:] if len(theirs["stages"]) > 1 else (float("nan"), float("nan")))
            our_s, our_gb = ours["stages"][-1][1:] if len(ours["stages"]) > 1 else (float("nan"), float("nan"))
            if values is None:
                print(f"{text:<16} {scenario.upper():<6} {theirs.get('error', '') or ours.get('error', '')}")
                continue
            mine, value = values
            print(f"{text:<16} {scenario.upper():<6} {their_s:8.1f} {their_gb:7.2f} {our_s:7.1f} {our_gb:8.2f} "
                  f"{value:9.6f} {abs(mine - value):8.1e} {per_class_diff:9.1e}")
        agree = all(v is not None and abs(v[0] - v[1]) <= 1e-9 and d <= 1e-9 for *_, v, d in rows)
        print("values agree within 1e-9" if agree else "VALUES DIFFER (or a reference did not finish)")
        print("(sse: sed_scores_eval, one scenario threshold-free per run; tbfl: PSDS1 and PSDS2, each threshold-free "
              "and at 50 points, in one call; peaks include the case)")


if __name__ == "__main__":
    main()
