"""``tbfl tune-postprocess``: median filters or SEBBs (and optionally thresholds) per class, picked on a tuning set."""

from __future__ import annotations

import argparse
import math

from tbfl.cli import class_list


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tune-postprocess",
        help="pick a median filter length or SEBB settings (and optionally a threshold) per class on a tuning set",
        description="Evaluate the scores with each candidate post-processing and keep, per class, the one with the "
        "highest per-class metric: a median filter length (--method median) or sound event bounding box settings "
        "(--method sebb: step filter length and merge thresholds). --tune-thresholds also keeps, per class, the "
        "operating point with the best event (collar-based) F1. Apply the result to another set with tbfl evaluate "
        "--postprocess; applying it to the tuning clips is refused unless --allow-tuning-set.",
    )
    parser.add_argument("--scores", required=True, metavar="PATH", help="directory of <clip id>.tsv score files, or an .npz score store")
    parser.add_argument("--ground-truth", required=True, metavar="TSV", help="strong labels of the tuning set")
    parser.add_argument("--durations", required=True, metavar="TSV", help="clip durations (the tuning set)")
    parser.add_argument("--out", required=True, metavar="JSON", help="where to write the parameters")
    parser.add_argument("--classes", metavar="A,B,...", type=class_list, help="class names and order (default: the score files' header)")
    parser.add_argument("--method", choices=("median", "sebb"), default="median",
                        help="median: a median filter length per class (default); sebb: sound event bounding boxes")
    parser.add_argument("--candidates-s", metavar="S,S,...",
                        help="median: candidate lengths in seconds (default 0,0.15,0.3,0.45,0.6,0.9,1.2)")
    parser.add_argument("--step-filters-s", metavar="S,S,...", help="sebb: candidate step filter lengths (default 0.32,0.48,0.64)")
    parser.add_argument("--merge-abs", metavar="X,X,...", help="sebb: candidate absolute merge thresholds (default 0.15,0.2,0.3)")
    parser.add_argument("--merge-rel", metavar="X,X,...", help="sebb: candidate relative merge thresholds (default 1.5,2,3)")
    parser.add_argument("--merge-both", action="store_true",
                        help="sebb: tune every (abs, rel) pair, both merge tests on (default: as the sebbs package, each "
                        "absolute threshold with the relative test off, then each relative one with the absolute test off)")
    parser.add_argument("--sebb-median-filter-s", type=float, default=0.0, metavar="S",
                        help="sebb: median filter applied before the step filter, every class (default 0: none)")
    parser.add_argument("--sebb-confidence", choices=("mean", "max"), default="mean",
                        help="sebb: a box's confidence is the mean (default, as the sebbs reference) or max of its scores")
    parser.add_argument("--metric", default="psds1_threshold_free",
                        help="per-class metric to maximise: psds1_threshold_free (default), psds2_threshold_free, psds1, "
                        "psds2, event_f1_best_per_class or intersection_f1")
    parser.add_argument("--tune-thresholds", action="store_true",
                        help="also store, per class, the threshold with the best event F1 on the tuning set (after its "
                        "tuned post-processing); evaluate --postprocess then reports event_f1_tuned_thresholds")
    parser.set_defaults(func=run)


def _floats(text: str | None, default, option: str):
    if text is None:
        return default
    try:
        values = [float(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise ValueError(f"{option} {text!r}: expected comma-separated numbers") from None
    if not values or any(math.isnan(v) for v in values):
        raise ValueError(f"{option} {text!r}: expected one or more comma-separated numbers (not NaN)")
    return values


def run(args: argparse.Namespace) -> int:
    from tbfl.evaluation.inputs import read_evaluation_files
    from tbfl.evaluation.postprocessing import tuning

    sebb_options = {"--step-filters-s": args.step_filters_s, "--merge-abs": args.merge_abs, "--merge-rel": args.merge_rel,
                    "--merge-both": args.merge_both or None,
                    "--sebb-median-filter-s": args.sebb_median_filter_s or None,
                    "--sebb-confidence": None if args.sebb_confidence == "mean" else args.sebb_confidence}
    unused = [name for name, value in sebb_options.items() if value is not None] if args.method == "median" else (
        ["--candidates-s"] if args.candidates_s is not None else [])
    if unused:
        raise ValueError(f"{', '.join(unused)} do(es) not apply to --method {args.method}")
    inputs = read_evaluation_files(args.scores, args.ground_truth, args.durations, args.classes)
    scores, times_s, classes, ground_truth, durations = inputs.scores, inputs.times_s, inputs.classes, inputs.ground_truth, inputs.durations
    common = dict(frame_hop_s=inputs.frame_hop_s, times_s=times_s, metric=args.metric)
    if args.method == "median":
        params, values = tuning.tune_median_filters(
            scores, ground_truth, durations, classes,
            candidates_s=_floats(args.candidates_s, tuning.DEFAULT_CANDIDATES_S, "--candidates-s"), **common)
        chosen = [max(values, key=lambda length_s: values[length_s][name]) for name in classes]
        settings = [f"{n:>6}" for n in params.median_filter_frames]
        heading = f"{'frames':>6}"
    else:
        params, values = tuning.tune_sebbs(
            scores, ground_truth, durations, classes,
            step_filters_s=_floats(args.step_filters_s, tuning.DEFAULT_STEP_FILTERS_S, "--step-filters-s"),
            merge_thresholds_abs=_floats(args.merge_abs, tuning.DEFAULT_MERGE_THRESHOLDS_ABS, "--merge-abs"),
            merge_thresholds_rel=_floats(args.merge_rel, tuning.DEFAULT_MERGE_THRESHOLDS_REL, "--merge-rel"),
            median_filter_s=args.sebb_median_filter_s, confidence=args.sebb_confidence,
            either_abs_or_rel=not args.merge_both, **common)
        chosen = list(params.sebb)
        settings = [f"{p.step_filter_frames:>6} {p.merge_threshold_abs:>5g} {p.merge_threshold_rel:>5g}" for p in params.sebb]
        heading = f"{'step':>6} {'abs':>5} {'rel':>5}"
    if args.tune_thresholds:
        params, fscore = tuning.tune_thresholds(params, scores, ground_truth, durations, times_s=times_s)
    params.save(args.out)
    print(f"{'class':<28} {heading} {args.metric}" + ("  threshold event F1" if args.tune_thresholds else ""))
    for c, name in enumerate(classes):
        line = f"{name:<28} {settings[c]} {values[chosen[c]][name]:.3f}"
        if args.tune_thresholds:
            line += f"  {params.thresholds[c]:>9.2f} {fscore.f1[c]:.3f}"
        print(line)
    print(f"wrote {args.out}")
    return 0
