"""Time to make the ``small`` preset with 2 workers, and how its shape and sounds compare with the paper.

Prints: soundbank seconds, seconds per soundscape for each set, the total as a
ratio to the 5-minute target; the dataset's Table 1 (``measure_stats``) next to
the paper's; per-class spectral centroid / bandwidth / roll-off and the best
balanced accuracy a single threshold on each reaches (1.0 would mean a class is
recognisable by that number alone).

Run: ``.venv/bin/python benchmarks/bench_synth.py [--preset small] [--jobs 2] [--out DIR]``
(a temporary folder is used and removed unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import pandas as pd

from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.synth.figures import best_single_feature_accuracy, class_spectral_table
from tbfl.synth.generate import generate_dataset
from tbfl.data.table1 import PAPER_AVG_EVENT_DURATION_S, PAPER_TABLE1

TARGET_S = 300.0


def bench_generation(out: str, preset: str, jobs: int) -> None:
    start = time.perf_counter()
    report = generate_dataset(out, preset, seed=0, jobs=jobs, progress=False)
    total_s = time.perf_counter() - start
    n_clips = sum(report.clips_written.values())
    if report.sources_written < report.sources_total or n_clips < sum(report.clips_total.values()):
        print("warning: the folder was partly made already; times cover only the missing files")
    print(f"preset {preset}, {jobs} jobs, {os.cpu_count()} CPUs, speech: {report.speech_backend}")
    print(f"soundbank: {report.sources_written} files in {report.seconds['soundbank']:.1f} s")
    for name, written in report.clips_written.items():
        per_clip = report.seconds[name] / max(1, written)
        print(f"{name:<18} {written:>6} clips {report.seconds[name]:7.1f} s  {per_clip * 1e3:6.1f} ms/clip (wall, {jobs} jobs)")
    clip_s = sum(report.seconds[name] for name in report.clips_written)
    print(f"all soundscapes: {n_clips} clips in {clip_s:.1f} s = {clip_s / max(1, n_clips) * 1e3:.1f} ms/clip")
    print(f"total {total_s:.1f} s = {total_s / TARGET_S:.2f} x the 5-minute target")


def compare_with_table1(out: str) -> None:
    stats = measure_stats(DesedLayout(out))
    table = pd.DataFrame(
        {
            "V_c": stats.volumes,
            "paper V_c": PAPER_TABLE1.volumes,
            "avg len": stats.avg_source_length_s.round(2),
            "r_c": stats.frame_ratios.round(4),
            "paper r_c": PAPER_TABLE1.frame_ratios,
            "avg dur": stats.avg_event_duration_s.round(2),
            "paper dur": PAPER_AVG_EVENT_DURATION_S,
            "events": stats.n_events,
        },
        index=stats.classes,
    )
    print("\nTable 1 of the generated set (synthetic train) next to the paper's")
    print(table.to_string())


def spectral_cues() -> None:
    table = class_spectral_table(n_per_class=16, seed=0, length_s=2.0)
    summary = table.groupby("class").agg(["mean", "min", "max"]).round(0).astype(int)
    print("\nSpectral features of 16 sources per class (Hz)")
    print(summary.to_string())
    accuracy = pd.concat([best_single_feature_accuracy(table, f) for f in ("centroid_hz", "bandwidth_hz", "rolloff95_hz")], axis=1)
    print("\nBest one-threshold balanced accuracy, class vs rest (1.0 = recognisable by that number alone)")
    print(accuracy.round(2).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", help="dataset folder to keep (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or os.path.join(scratch, "desed")
        bench_generation(out, args.preset, args.jobs)
        compare_with_table1(out)
    spectral_cues()


if __name__ == "__main__":
    main()
