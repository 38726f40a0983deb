"""``tbfl demo``: generate the small synthetic set, train BCE and TBFL, compare, report."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="the main job: small synthetic set, BCE vs TBFL, comparison and report")
    parser.add_argument("--out", default="demo-out", help="demo folder (runs/ and report/), default demo-out")
    parser.add_argument("--config", default="cpu-small", help="recipe: a shipped name or a YAML path (default cpu-small)")
    parser.add_argument("--data", default="data/small", help="dataset folder (made if absent), default data/small")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2, help="processes for data generation and trainings at once")
    parser.add_argument("--epochs", type=int, default=15, help="epochs per training (short runs; the converged comparison is the study's)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tbfl.experiments.demo import run_demo

    run_demo(args.out, config=args.config, data_root=args.data, seed=args.seed, jobs=args.jobs, epochs=args.epochs, progress=not args.no_progress)
    return 0
