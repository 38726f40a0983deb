"""``tbfl evaluate``: PSDS1/2, event-based and intersection-based F1 of frame scores."""

from __future__ import annotations

import argparse

from tbfl.cli import class_list

_PSDS_KEYS = ("dtc", "gtc", "cttc", "alpha_ct", "alpha_st", "max_efpr")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="PSDS1/PSDS2, event- and intersection-based F1 and error rates, clip- and segment-based metrics of frame scores",
        description="Median-filter the frame scores (one sed_scores_eval <clip id>.tsv per clip: any contiguous frame "
        "grid, any classes), then compute PSDS1 and PSDS2 (at 50 thresholds, as psds_eval, and threshold-free, as "
        "sed_scores_eval), the event-based F1 (collars) at 0.5 and over the 50 thresholds, and the intersection-based "
        "F1 at 0.5, the collar- and intersection-based error rates and the clip-based (tagging) F1, error rate and "
        "AUROC; segment-based metrics and piPSDS on request. Every clip of the durations list is evaluated and needs "
        "scores. See docs/evaluation-metrics.md.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--scores", metavar="PATH", nargs="+",
                        help="directory of <clip id>.tsv score files, or an .npz score store; several: one system each, "
                        "compared in one table (with --bootstrap: paired intervals of each system minus the first)")
    source.add_argument("--detections", metavar="PATH",
                        help="instead of scores, event lists per operating point (psds_eval's input): a folder of "
                        "<threshold>.tsv files or one TSV with a threshold column; gives PSDS1 and PSDS2 only "
                        "(--classes required)")
    parser.add_argument("--ground-truth", required=True, metavar="TSV", help="strong labels: filename onset offset event_label")
    parser.add_argument("--durations", required=True, metavar="TSV", help="clip durations: filename duration (the evaluation set)")
    parser.add_argument("--out", metavar="JSON", help="write every value and the settings to this JSON file")
    parser.add_argument("--classes", metavar="A,B,...", type=class_list, help="class names and order (default: the score files' header)")
    parser.add_argument("--median-filter-s", type=float, default=0.45, metavar="S", help="median filter length (default 0.45 s)")
    parser.add_argument("--onset-collar-s", type=float, default=0.2, metavar="S", help="event-F1 onset collar (default 0.2 s)")
    parser.add_argument("--offset-collar-s", type=float, default=0.2, metavar="S", help="event-F1 offset collar (default 0.2 s)")
    parser.add_argument("--offset-collar-rate", type=float, default=0.2, metavar="R",
                        help="event-F1 offset collar as a fraction of the event length, the larger counts (default 0.2)")
    for name, default in (("psds1", "dtc=0.7,gtc=0.7,alpha_ct=0,alpha_st=1,max_efpr=100"),
                          ("psds2", "dtc=0.1,gtc=0.1,cttc=0.3,alpha_ct=0.5,alpha_st=1,max_efpr=100")):
        parser.add_argument(f"--{name}", metavar="KEY=VALUE,...", type=_psds_settings(name),
                            help=f"{name.upper()} settings to change, of {', '.join(_PSDS_KEYS)} (default {default})")
    parser.add_argument("--bootstrap", type=int, default=0, metavar="N",
                        help="95%% intervals of every metric from N clip resamples (piPSDS with --pipsds-intervals; default 0: none)")
    parser.add_argument("--segment-length-s", type=float, metavar="S",
                        help="also segment-based F1, error rate and AUROC over segments of S seconds (sed_scores_eval's)")
    parser.add_argument("--auroc-max-fpr", type=float, metavar="F",
                        help="segment- and clip-based AUROC up to FPR F, divided by F (partial AUROC as DCASE 2024's "
                        "MAESTRO task, F = 0.1; default: the full area)")
    parser.add_argument("--pipsds", nargs="?", const=(), type=_lengths, metavar="S,S,...",
                        help="also the post-processing independent PSDS1/2: each class's ROCs under median filters of "
                        "these lengths merged (arXiv 2306.15440; default 0,0.2,0.45,0.75,1,1.5,2 s); one PSDS pass per length")
    parser.add_argument("--pipsds-intervals", action="store_true",
                        help="also piPSDS's intervals (with --pipsds and --bootstrap N): each piPSDS pass is resampled "
                        "too, about the cost of the main pass's PSDS bootstrap per filter length")
    parser.add_argument("--postprocess", metavar="JSON", help="per-class post-processing from tbfl tune-postprocess: "
                        "median filters (replace --median-filter-s), SEBBs if tuned, and per-class thresholds if tuned "
                        "(adds event_f1_tuned_thresholds); refused on clips of its tuning set")
    parser.add_argument("--allow-tuning-set", action="store_true",
                        help="allow --postprocess on clips it was tuned on (inflates the scores)")
    parser.add_argument("--plots", metavar="DIR", help="draw PSD-ROC curves (overall, per class) and event F1 against "
                        "threshold per class into DIR as PNG")
    parser.add_argument("--psds-only", action="store_true",
                        help="PSDS1 and PSDS2 only (at the 50 thresholds and threshold-free), computed a block of classes "
                        "at a time: for large sets such as AudioSet-strong (use an .npz score store); no F1, bootstrap, "
                        "post-processing file or plots")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="processes evaluating blocks of classes at once (default 1; same numbers for any N)")
    parser.add_argument("--names", metavar="A,B,...", help="system names of several --scores (default: the folder names)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar while reading the scores")
    parser.set_defaults(func=run)


def _lengths(text: str) -> tuple[float, ...]:
    """argparse type: '0,0.45,1' -> (0.0, 0.45, 1.0), each a number >= 0."""
    try:
        lengths = tuple(float(item) for item in text.split(",") if item.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated lengths in seconds") from None
    if not lengths or min(lengths) < 0 or any(x != x for x in lengths):
        raise argparse.ArgumentTypeError(f"{text!r}: expected one or more lengths >= 0 seconds")
    return lengths


def _psds_settings(name: str):
    """argparse type: 'dtc=0.5,alpha_ct=0' -> that scenario's default PsdsSettings with those values changed."""

    def parse(text: str):
        from dataclasses import replace

        from tbfl.evaluation.settings import PSDS1, PSDS2

        changes = {}
        for item in filter(None, text.split(",")):
            key, _, value = item.partition("=")
            if key.strip() not in _PSDS_KEYS or not value:
                raise argparse.ArgumentTypeError(f"{item!r}: expected KEY=VALUE with KEY one of {', '.join(_PSDS_KEYS)}")
            try:
                changes[key.strip()] = None if value.strip().lower() == "none" else float(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{item!r}: {value!r} is not a number") from None
        try:
            return replace(PSDS1 if name == "psds1" else PSDS2, **changes)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from tbfl.evaluation.evaluate import evaluate_files
    from tbfl.evaluation.settings import PSDS1, PSDS2
    from tbfl.io import atomic_write_text, check_writable_folder

    for folder in ([Path(args.out).parent] if args.out else []) + ([args.plots] if args.plots else []):
        check_writable_folder(folder)  # before the evaluation, not after it
    classes = args.classes
    if args.detections:
        return _run_detections(args, classes, args.psds1 or PSDS1, args.psds2 or PSDS2)
    if len(args.scores) > 1 or args.names:
        return _run_systems(args, classes, args.psds1 or PSDS1, args.psds2 or PSDS2)
    if args.psds_only:
        return _run_psds_only(args, classes, args.psds1 or PSDS1, args.psds2 or PSDS2)
    result = evaluate_files(args.scores[0], args.ground_truth, args.durations, classes,
                            **_evaluation_options(args, args.psds1 or PSDS1, args.psds2 or PSDS2))
    if args.out:
        atomic_write_text(args.out, json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
    print(result.format_table())
    if args.plots:
        from tbfl.evaluation.plots import write_plots

        for path in write_plots(result, args.plots):
            print(f"wrote {path}")
    return 0


def _run_detections(args: argparse.Namespace, classes, psds1, psds2) -> int:
    import json

    from tbfl.data.desed import read_durations_tsv, read_strong_tsv
    from tbfl.evaluation.operating_points import operating_point_psds, read_operating_points
    from tbfl.io import atomic_write_text

    if classes is None:
        raise ValueError("--detections needs --classes (event lists carry no class header)")
    detections = read_operating_points(args.detections, classes)
    ground_truth, durations = read_strong_tsv(args.ground_truth, classes), read_durations_tsv(args.durations)
    values = {name: operating_point_psds(detections, ground_truth, durations, classes, scenario)
              for name, scenario in (("psds1", psds1), ("psds2", psds2))}
    if args.out:
        data = {**{name: psds.value for name, psds in values.items()}, "thresholds": sorted(detections),
                "details": {name: psds.to_dict() for name, psds in values.items()}}
        atomic_write_text(args.out, json.dumps(data, indent=2, allow_nan=False) + "\n")
    print(f"{len(detections)} operating points: PSDS1 {values['psds1'].value:.3f}, PSDS2 {values['psds2'].value:.3f}")
    return 0


def _run_psds_only(args: argparse.Namespace, classes, psds1, psds2) -> int:
    import json

    from tbfl.evaluation.evaluate import evaluate_psds
    from tbfl.evaluation.inputs import read_evaluation_files
    from tbfl.io import atomic_write_text

    unsupported = [flag for flag, used in (("--bootstrap", args.bootstrap), ("--postprocess", args.postprocess), ("--plots", args.plots),
                                           ("--segment-length-s", args.segment_length_s is not None),
                                           ("--auroc-max-fpr", args.auroc_max_fpr is not None),
                                           ("--pipsds", args.pipsds is not None), ("--pipsds-intervals", args.pipsds_intervals)) if used]
    if unsupported:
        raise ValueError(f"--psds-only computes PSDS1 and PSDS2 only; drop {', '.join(unsupported)}")
    inputs = read_evaluation_files(args.scores[0], args.ground_truth, args.durations, classes, progress=not args.no_progress)
    values = evaluate_psds(inputs.scores, inputs.ground_truth, inputs.durations, inputs.classes, frame_hop_s=inputs.frame_hop_s,
                           times_s=inputs.times_s, median_filter_s=args.median_filter_s, psds1=psds1, psds2=psds2, jobs=args.jobs)
    if args.out:
        data = {**{name: psds.value for name, psds in values.items()}, "details": {name: psds.to_dict() for name, psds in values.items()}}
        atomic_write_text(args.out, json.dumps(data, indent=2, allow_nan=False) + "\n")
    print("  ".join(f"{name} {psds.value:.4f}" for name, psds in values.items()))
    return 0


def _run_systems(args: argparse.Namespace, classes, psds1, psds2) -> int:
    import json

    from tbfl.evaluation.compare import compare_files
    from tbfl.io import atomic_write_text

    unsupported = [flag for flag, used in (("--psds-only", args.psds_only), ("--plots", args.plots)) if used]
    if unsupported:
        raise ValueError(f"several --scores give one comparison table; drop {', '.join(unsupported)}")
    names = None if args.names is None else [n.strip() for n in args.names.split(",")]
    if names is not None and len(names) != len(args.scores):
        raise ValueError(f"--names gives {len(names)} names for {len(args.scores)} --scores folders")
    comparison = compare_files(args.scores, args.ground_truth, args.durations, classes, names=names,
                               **_evaluation_options(args, psds1, psds2))
    if args.out:
        atomic_write_text(args.out, json.dumps(comparison.to_dict(), indent=2, allow_nan=False) + "\n")
    print(comparison.format_table())
    return 0


def _evaluation_options(args: argparse.Namespace, psds1, psds2) -> dict:
    """The keyword arguments that one system's and several systems' evaluation take from the same flags."""
    from tbfl.evaluation.postprocessing.params import PostprocessParams
    from tbfl.evaluation.settings import DEFAULT_PIPSDS_FILTERS_S

    if args.pipsds_intervals and (args.pipsds is None or not args.bootstrap):
        raise ValueError("--pipsds-intervals needs --pipsds and --bootstrap N")
    return dict(
        median_filter_s=args.median_filter_s, progress=not args.no_progress, onset_collar_s=args.onset_collar_s,
        offset_collar_s=args.offset_collar_s, offset_collar_rate=args.offset_collar_rate, psds1=psds1, psds2=psds2,
        bootstrap=args.bootstrap, allow_tuning_set=args.allow_tuning_set,
        postprocess=None if args.postprocess is None else PostprocessParams.load(args.postprocess),
        segment_length_s=args.segment_length_s, auroc_max_fpr=args.auroc_max_fpr,
        pipsds_filters_s=DEFAULT_PIPSDS_FILTERS_S if args.pipsds == () else args.pipsds, pipsds_intervals=args.pipsds_intervals,
        jobs=args.jobs,
    )
