"""``tbfl detect``: write the sound events of audio files as a DESED strong TSV."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("detect", help="detect sound events in audio files with a trained model")
    parser.add_argument("model", help="a checkpoint (.ckpt) or a `tbfl train` run folder (its best checkpoint)")
    parser.add_argument("audio", nargs="+", help="audio files or folders (any sample rate, mono or stereo, any length)")
    parser.add_argument("--out", required=True, help="events TSV (filename, onset, offset, event_label)")
    parser.add_argument("--threshold", help="one threshold, or a JSON file mapping class -> threshold (default 0.5)")
    parser.add_argument("--median-filter-s", type=float, help="median filter length in seconds (default 0.45)")
    parser.add_argument(
        "--postprocess", metavar="JSON",
        help="per-class post-processing from `tbfl tune-postprocess` (median filters or SEBBs, and thresholds if tuned), "
        "applied as `tbfl evaluate --postprocess` applies it; replaces --median-filter-s (and --threshold if it has thresholds)",
    )
    parser.add_argument("--scores", help="also write frame scores here (sed_scores TSV, one file per input)")
    parser.add_argument("--network", choices=("teacher", "student"), default="teacher")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tbfl.evaluation.postprocessing.params import PostprocessParams
    from tbfl.inference import detect

    threshold: float | str | None = args.threshold
    try:
        threshold = None if threshold is None else float(threshold)
    except ValueError:
        pass  # a JSON file of per-class thresholds
    postprocess = None if args.postprocess is None else PostprocessParams.load(args.postprocess)
    labels = detect(
        args.model, args.audio, args.out, threshold=threshold, median_filter_s=args.median_filter_s, postprocess=postprocess,
        scores_dir=args.scores, network=args.network, progress=not args.no_progress,
    )
    print(f"{len(labels.events)} events in {len(labels.filenames)} files -> {args.out}")
    return 0
