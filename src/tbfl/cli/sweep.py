"""``tbfl sweep``: run a grid of trainings (losses, k, gamma, seeds), skipping finished runs."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sweep", help="run a grid of trainings, one folder each, resumable")
    parser.add_argument("--config", required=True, help="base recipe: a shipped name (cpu-small, desed2021) or a YAML path")
    parser.add_argument("--grid", required=True, help="grid: a shipped name (grid-paper, grid-study-cpu) or a YAML path")
    parser.add_argument("--out", required=True, help="folder for the run folders")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, each in its own process (and GPU, if any)")
    parser.add_argument("--archive", help="copy each finished run's summary to ARCHIVE/runs/ and ARCHIVE/runs.csv (commit it; runs found there count as finished)")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and their state, train nothing")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tbfl.experiments.sweep import plan_sweep, run_state, run_sweep

    if args.dry_run:
        for planned in plan_sweep(args.config, args.grid):
            state = run_state(Path(args.out) / planned.name, Path(args.archive) if args.archive else None)
            print(f"{planned.name:<28} {state:<20} {dict(planned.overrides)}")
        return 0
    run_sweep(args.config, args.grid, args.out, jobs=args.jobs, archive=args.archive, progress=not args.no_progress)
    return 0
