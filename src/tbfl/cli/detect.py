"""``tbfl detect``: write the sound events of audio files as a DESED strong TSV."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("detect", help="detect sound events in audio files with a trained model")
    parser.add_argument("model", help="a checkpoint (.ckpt) or a `tbfl train` run folder (its best checkpoint)")
    parser.add_argument("audio", nargs="+", help="audio files or folders (any sample rate, mono or stereo, any length)")
    parser.add_argument("--out", required=True, help="events TSV (filename, onset, offset, event_label)")
    parser.add_argument("--threshold", default="0.5", help="one threshold, or a JSON file mapping class -> threshold (default 0.5)")
    parser.add_argument("--median-filter-s", type=float, default=0.45, help="median filter length in seconds (default 0.45)")
    parser.add_argument("--scores", help="also write frame scores here (sed_scores TSV, one file per input)")
    parser.add_argument("--network", choices=("teacher", "student"), default="teacher")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tbfl.inference import detect

    try:
        threshold: float | str = float(args.threshold)
    except ValueError:
        threshold = args.threshold
    labels = detect(
        args.model, args.audio, args.out, threshold=threshold, median_filter_s=args.median_filter_s,
        scores_dir=args.scores, network=args.network, progress=not args.no_progress,
    )
    print(f"{len(labels.events)} events in {len(labels.filenames)} files -> {args.out}")
    return 0
