"""``tbfl check``: audit a dataset (DESED 2021, or a dataset description) before training on it (table + JSON manifest)."""

from __future__ import annotations

import argparse

from tbfl.cli.stats import add_dataset_arguments

#: Exit status when a set is unusable (2 stays the status of bad input, e.g. an unreadable layout config).
UNUSABLE_EXIT = 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="audit a dataset (DESED 2021 or a description): missing, extra and unreadable clips, sample rates, soundbank",
        description="Per clip set: clips listed in a label file but missing on disk, audio files in no label file, "
        "unreadable files, the sample rates / channels / durations in the audio headers; the soundbank's classes and "
        "file counts. Prints a table, writes every list to a JSON manifest, and exits 1 only when a set is unusable "
        "(no or an invalid label file, no audio folder, no readable clip, a soundbank class without files).",
    )
    add_dataset_arguments(parser)
    parser.add_argument("--config", metavar="RECIPE", help="a training recipe: check the dataset its data.dataset (or data.layout) describes")
    parser.add_argument("--out", metavar="JSON", help="manifest path (default: DATASET/tbfl_check.json)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tbfl.cli.stats import dataset_from_arguments
    from tbfl.data.audit import audit_dataset
    from tbfl.training.config import load_recipe

    dataset = dataset_from_arguments(args, load_recipe(args.config) if args.config else None)
    audit = audit_dataset(dataset)
    out = Path(args.out) if args.out else dataset.root / "tbfl_check.json"
    audit.write_json(out)
    print(audit.format_table())
    print(f"manifest: {out}")
    return 0 if audit.usable else UNUSABLE_EXIT
