"""``tbfl stats``: the paper's Table 1 (V_c, source lengths, r_c, event durations) measured from a DESED-format dataset."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="class statistics of a dataset (the paper's Table 1) and its TBFL weights",
        description="Measure V_c and the average source length from the soundbank's foreground folders, and r_c, "
        "the average event duration and the event count from the strong training TSV, then the TBFL weights at k.",
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset root (DESED 2021 layout)")
    parser.add_argument("--layout-config", metavar="YAML", help="layout overrides: {entry: relative path}, or a recipe with data.layout")
    parser.add_argument("--k", type=float, default=1000.0, help="k of the TBFL weights (default 1000; 'inf' for volumes only)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON to FILE (readable by `tbfl weights --stats`)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import warnings

    from tbfl.data.layout import DesedLayout
    from tbfl.data.stats import measure_stats
    from tbfl.io import atomic_write_text

    overrides = _layout_overrides(Path(args.layout_config)) if args.layout_config else {}
    layout = DesedLayout.from_config(args.dataset, overrides)
    weights = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = measure_stats(layout)
        try:
            weights = stats.tbfl_weights(args.k).tolist()
        except ValueError as error:
            print(f"tbfl stats: TBFL weights not computed: {error}", file=sys.stderr)
    for warning in caught:
        print(f"tbfl stats: warning: {warning.message}", file=sys.stderr)
    report = {"dataset": str(layout.root), **stats.to_dict(), "k": "inf" if math.isinf(args.k) else args.k, "tbfl_weights": weights}
    text = json.dumps(report, indent=2)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    print(text if args.json else _table(report))
    return 0


def _table(report: dict) -> str:
    def number(value, spec: str) -> str:
        return "n/a" if value is None else value if isinstance(value, str) else format(value, spec)

    weights = report["tbfl_weights"] or [None] * len(report["classes"])
    lines = [
        f"Statistics of {report['dataset']} (the paper's Table 1); TBFL weights at k = {number(report['k'], 'g')}",
        f"{'class':<28} {'V_c':>5} {'avg len (s)':>11} {'r_c':>7} {'avg dur (s)':>11} {'events':>7} {'w_c':>6}",
    ]
    for i, name in enumerate(report["classes"]):
        lines.append(
            f"{name:<28} {report['volumes'][i]:>5} {number(report['avg_source_length_s'][i], '.2f'):>11} "
            f"{report['frame_ratios'][i]:>7.4f} {number(report['avg_event_duration_s'][i], '.2f'):>11} "
            f"{report['n_events'][i]:>7} {number(weights[i], '.3f'):>6}"
        )
    return "\n".join(lines)


def _layout_overrides(path: Path) -> dict:
    """Layout overrides from YAML: a flat mapping, ``{layout: {...}}`` or a recipe's ``{data: {layout: {...}}}``."""
    import yaml

    if not path.is_file():
        raise FileNotFoundError(f"{path}: layout config not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", 0) + 1
        raise ValueError(f"{path}:{line}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"].get("layout") or {}
    elif isinstance(data, dict) and "layout" in data:
        data = data["layout"] or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of layout entries to relative paths")
    return data
