"""``tbfl check``: audit a DESED-format tree before training on it (table + JSON manifest)."""

from __future__ import annotations

import argparse

#: Exit status when a set is unusable (2 stays the status of bad input, e.g. an unreadable layout config).
UNUSABLE_EXIT = 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="audit a DESED-format dataset: missing, extra and unreadable clips, sample rates, soundbank",
        description="Per clip set: clips listed in a label file but missing on disk, audio files in no label file, "
        "unreadable files, the sample rates / channels / durations in the audio headers; the soundbank's classes and "
        "file counts. Prints a table, writes every list to a JSON manifest, and exits 1 only when a set is unusable "
        "(no or an invalid label file, no audio folder, no readable clip, a soundbank class without files).",
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset root (DESED 2021 layout)")
    parser.add_argument("--layout-config", metavar="YAML", help="layout overrides: {entry: relative path}, or a recipe with data.layout")
    parser.add_argument("--out", metavar="JSON", help="manifest path (default: DATASET/tbfl_check.json)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tbfl.cli.stats import _layout_overrides
    from tbfl.data.audit import audit_dataset
    from tbfl.data.layout import DesedLayout

    overrides = _layout_overrides(Path(args.layout_config)) if args.layout_config else {}
    layout = DesedLayout.from_config(args.dataset, overrides)
    audit = audit_dataset(layout)
    out = Path(args.out) if args.out else layout.root / "tbfl_check.json"
    audit.write_json(out)
    print(audit.format_table())
    print(f"manifest: {out}")
    return 0 if audit.usable else UNUSABLE_EXIT
