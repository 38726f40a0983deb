"""``tbfl demo``: the main job (placeholder until the training recipe lands: prints Table 1's weights)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the main job")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tbfl.cli import main

    return main(["weights"])
