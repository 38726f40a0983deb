"""``tbfl tune-postprocess``: a median filter length per class, picked on a tuning set."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tune-postprocess",
        help="pick a median filter length per class on a tuning set",
        description="Evaluate the scores with each candidate median filter length and keep, per class, the length "
        "with the highest per-class metric. Apply the result to another set with tbfl evaluate --postprocess; "
        "applying it to the tuning clips is refused unless --allow-tuning-set.",
    )
    parser.add_argument("--scores", required=True, metavar="PATH", help="directory of <clip id>.tsv score files, or an .npz score store")
    parser.add_argument("--ground-truth", required=True, metavar="TSV", help="strong labels of the tuning set")
    parser.add_argument("--durations", required=True, metavar="TSV", help="clip durations (the tuning set)")
    parser.add_argument("--out", required=True, metavar="JSON", help="where to write the parameters")
    parser.add_argument("--classes", metavar="A,B,...", help="class names and order (default: the score files' header)")
    parser.add_argument("--candidates-s", metavar="S,S,...",
                        help="candidate lengths in seconds (default 0,0.15,0.3,0.45,0.6,0.9,1.2)")
    parser.add_argument("--metric", default="psds1_threshold_free",
                        help="per-class metric to maximise: psds1_threshold_free (default), psds2_threshold_free, psds1, "
                        "psds2, event_f1_best_per_class or intersection_f1")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tbfl.data.desed import read_durations_tsv, read_strong_tsv
    from tbfl.evaluation.scores import read_any_scores
    from tbfl.evaluation.tuning import DEFAULT_CANDIDATES_S, tune_median_filters

    try:
        candidates_s = DEFAULT_CANDIDATES_S if args.candidates_s is None else [
            float(c) for c in args.candidates_s.split(",") if c.strip()]
    except ValueError:
        raise ValueError(f"--candidates-s {args.candidates_s!r}: expected comma-separated seconds") from None
    classes = None if args.classes is None else tuple(c.strip() for c in args.classes.split(",") if c.strip())
    scores, times_s, classes = read_any_scores(args.scores, classes)
    frame_hop_s = round(float(np.median(np.concatenate([np.diff(t) for t in times_s.values()]))), 9)
    params, values = tune_median_filters(
        scores, read_strong_tsv(args.ground_truth, classes), read_durations_tsv(args.durations), classes,
        frame_hop_s=frame_hop_s, times_s=times_s, candidates_s=candidates_s, metric=args.metric,
    )
    params.save(args.out)
    print(f"{'class':<28} {'frames':>6} {args.metric}")
    for c, name in enumerate(classes):
        best = max(values, key=lambda length_s: values[length_s][name])
        print(f"{name:<28} {params.median_filter_frames[c]:>6} {values[best][name]:.3f}")
    return 0
