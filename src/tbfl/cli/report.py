"""``tbfl report``: tables and figures of the paper from a folder of finished runs."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="the paper's tables and figures from finished runs")
    parser.add_argument("runs", help="folder of run folders (from tbfl sweep or tbfl train)")
    parser.add_argument("--out", required=True, help="report folder (report.md, figures/, summary.csv, summary.json)")
    parser.add_argument("--tbfl", default="tbfl_k1000_g2", help="TBFL configuration compared with BCE (default tbfl_k1000_g2)")
    parser.add_argument("--bce", default="bce", help="BCE configuration name (default bce)")
    parser.add_argument("--data-root", help="the runs' dataset, for PSD-ROC curves and event rolls (default: the root in the runs' config)")
    parser.add_argument("--commit", help="the commit of the code that trained the runs (printed in the report)")
    parser.add_argument("--postprocessing", action="store_true",
                        help="also compare the fixed median filter, tuned median filters and tuned SEBBs (minutes per run)")
    parser.add_argument("--study2", action="store_true",
                        help="the analysis of docs/study2/protocol.md (H1-H4 over datasets) instead of the paper's tables")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tbfl.experiments import study2
    from tbfl.experiments.report import write_report

    if args.study2:
        print(f"report: {study2.write_report(args.runs, args.out, commit=args.commit)}")
        return 0
    report = write_report(args.runs, args.out, tbfl_name=args.tbfl, bce_name=args.bce, data_root=args.data_root, commit=args.commit,
                          postprocessing=args.postprocessing)
    print(f"report: {report}")
    return 0
