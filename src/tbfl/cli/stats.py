"""``tbfl stats``: the paper's Table 1 (V_c, source lengths, r_c, event durations) measured from a DESED-format dataset."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

from tbfl.cli.weights import add_k_auto_arguments, k_value
from tbfl.weights import k_auto_condition


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="class statistics of a dataset (the paper's Table 1) and its TBFL weights",
        description="Measure V_c and the average source length from the soundbank's foreground folders (without a "
        "soundbank: V_c = strong training clips holding the class), and r_c, the average event duration and the event "
        "count from the strong training labels, then the TBFL weights at k.",
    )
    add_dataset_arguments(parser)
    parser.add_argument(
        "--config", metavar="RECIPE",
        help="a training recipe: its data.dataset (or data.layout), and r_c counted on its output frame grid, as `tbfl train` "
        "counts it (default: the DCASE2021 baseline's 156 frames of 64 ms, the paper's Table 1)",
    )
    parser.add_argument("--k", type=k_value, default=1000.0, help="k of the TBFL weights (default 1000; 'inf' for volumes only; 'auto': docs/k-auto.md)")
    add_k_auto_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON to FILE (readable by `tbfl weights --stats`)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import warnings

    from tbfl.constants import FRAME_HOP_S, N_FRAMES
    from tbfl.data.labels import FrameGrid
    from tbfl.data.stats import measure_stats
    from tbfl.io import atomic_write_text
    from tbfl.training.config import load_recipe
    from tbfl.training.loss import LossConfig, class_weights, resolve_k

    recipe = load_recipe(args.config) if args.config else None
    grid = recipe.frame_grid if recipe else FrameGrid(frame_hop_s=FRAME_HOP_S, n_frames=N_FRAMES)
    dataset = dataset_from_arguments(args, recipe)
    weights, k = None, args.k
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = measure_stats(dataset, n_frames=grid.n_frames, frame_hop_s=grid.frame_hop_s)  # warns about what it does not count
        try:
            loss = LossConfig(name="tbfl", k=args.k, k_auto_target=args.k_auto_target, k_auto_rule=args.k_auto_rule)
            k = resolve_k(loss, stats)
            weights = class_weights(loss, stats).tolist()
        except ValueError as error:
            print(f"tbfl stats: TBFL weights not computed: {error}", file=sys.stderr)
    for warning in caught:
        print(f"tbfl stats: warning: {warning.message}", file=sys.stderr)
    report = {
        "dataset": str(dataset.root), **stats.to_dict(), "frame_grid": dataclasses.asdict(grid),
        "k": k if isinstance(k, str) else "inf" if math.isinf(k) else k, "tbfl_weights": weights,
    }
    if args.k == "auto":
        report["k_auto_target"] = args.k_auto_target
        report["k_auto_rule"] = args.k_auto_rule
    text = json.dumps(report, indent=2)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    print(text if args.json else _table(report))
    return 0


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """DATASET and the ways to describe it (``tbfl stats`` and ``tbfl check``)."""
    parser.add_argument("dataset", metavar="DATASET", help="dataset root (DESED 2021 layout unless a description is given)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--layout-config", metavar="YAML", help="DESED layout overrides: {entry: relative path}, or a recipe with data.layout")
    where.add_argument("--dataset-config", metavar="YAML", help="a dataset description (classes, sets with roles; docs/own-data.md), paths relative to DATASET")


def dataset_from_arguments(args: argparse.Namespace, recipe=None):
    """The description of DATASET: --dataset-config, else the recipe's data.dataset / data.layout, else DESED 2021 in --layout-config."""
    from tbfl.data.dataset import load_dataset

    if args.dataset_config:
        return load_dataset(args.dataset, args.dataset_config)
    if recipe is not None:
        if args.layout_config:
            raise ValueError("--config and --layout-config: give one (the recipe holds its data.layout)")
        return load_dataset(args.dataset, recipe.data.dataset, recipe.data.layout)
    return load_dataset(args.dataset, None, _layout_overrides(Path(args.layout_config)) if args.layout_config else {})


def _table(report: dict) -> str:
    def number(value, spec: str) -> str:
        return "n/a" if value is None else value if isinstance(value, str) else format(value, spec)

    weights = report["tbfl_weights"] or [None] * len(report["classes"])
    clips = report.get("label_volumes") or [None] * len(report["classes"])
    source = "soundbank files" if report.get("volumes_from", "soundbank") == "soundbank" else "clips with the class (no soundbank)"
    lines = [
        f"Statistics of {report['dataset']} (the paper's Table 1); TBFL weights at k = {number(report['k'], 'g')}"
        + (f" (k: auto, {k_auto_condition(report['k_auto_rule'], report['k_auto_target'])})" if "k_auto_rule" in report else "") + "; "
        f"r_c on {report['frame_grid']['n_frames']} frames of {report['frame_grid']['frame_hop_s'] * 1000:.1f} ms; "
        f"V_c = {source}",
        f"{'class':<28} {'V_c':>5} {'avg len (s)':>11} {'r_c':>7} {'avg dur (s)':>11} {'events':>7} {'clips':>6} {'w_c':>6}",
    ]
    for i, name in enumerate(report["classes"]):
        lines.append(
            f"{name:<28} {report['volumes'][i]:>5} {number(report['avg_source_length_s'][i], '.2f'):>11} "
            f"{report['frame_ratios'][i]:>7.4f} {number(report['avg_event_duration_s'][i], '.2f'):>11} "
            f"{report['n_events'][i]:>7} {number(clips[i], 'd'):>6} {number(weights[i], '.3f'):>6}"
        )
    return "\n".join(lines)


def _layout_overrides(path: Path) -> dict:
    """Layout overrides from YAML: a flat mapping, ``{layout: {...}}`` or a recipe's ``{data: {layout: {...}}}``."""
    from tbfl.io import read_yaml

    data = read_yaml(path, "layout config")
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"].get("layout") or {}
    elif isinstance(data, dict) and "layout" in data:
        data = data["layout"] or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of layout entries to relative paths")
    return data
