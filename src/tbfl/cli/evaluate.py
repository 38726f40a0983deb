"""``tbfl evaluate``: PSDS1/2, event-based and intersection-based F1 of frame scores."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="PSDS1/PSDS2, event-based and intersection-based F1 of frame scores",
        description="Median-filter the frame scores (one sed_scores_eval <clip id>.tsv per clip), then compute "
        "PSDS1 and PSDS2 (at 50 thresholds, as psds_eval, and threshold-free, as sed_scores_eval), the event-based "
        "F1 (200 ms collars) at 0.5 and over the 50 thresholds, and the intersection-based F1 at 0.5. Every clip "
        "of the durations list is evaluated and needs scores.",
    )
    parser.add_argument("--scores", required=True, metavar="DIR", help="directory of <clip id>.tsv score files")
    parser.add_argument("--ground-truth", required=True, metavar="TSV", help="strong labels: filename onset offset event_label")
    parser.add_argument("--durations", required=True, metavar="TSV", help="clip durations: filename duration (the evaluation set)")
    parser.add_argument("--out", metavar="JSON", help="write every value and the settings to this JSON file")
    parser.add_argument("--median-filter-s", type=float, default=0.45, metavar="S", help="median filter length (default 0.45 s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar while reading the scores")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from tbfl.evaluation.evaluate import evaluate_files
    from tbfl.io import atomic_write_text

    result = evaluate_files(
        args.scores, args.ground_truth, args.durations, median_filter_s=args.median_filter_s, progress=not args.no_progress,
    )
    if args.out:
        atomic_write_text(args.out, json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
    print(result.format_table())
    return 0
