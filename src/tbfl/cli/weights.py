"""``tbfl weights``: TBFL class weights from V_c and r_c given on the command line or in a file."""

from __future__ import annotations

import argparse
import json
import math

from tbfl.weights import K_AUTO_RULES, K_AUTO_TARGET, k_auto_condition


def add_k_auto_arguments(parser: argparse.ArgumentParser) -> None:
    """--k-auto-target and --k-auto-rule, the settings of --k auto (loss.k_auto_target, loss.k_auto_rule)."""
    parser.add_argument("--k-auto-target", type=float, default=K_AUTO_TARGET, metavar="T", help=f"target of --k auto (default {K_AUTO_TARGET:g}, Table 1 at k = 1000)")
    parser.add_argument("--k-auto-rule", choices=tuple(K_AUTO_RULES), default="median",
                        help="how --k auto summarises the classes' samples per recording (default median; docs/k-auto.md)")


def k_value(text: str) -> float | str:
    """--k: a number > 0, 'inf' or 'auto'."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'inf' or 'auto', got {text!r}") from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "weights",
        help="time-balanced class weights w_c(V_c, r_c, k)",
        description="Print the TBFL class weights (eq. 4) for data volumes V_c and frame ratios r_c. "
        "Without --volumes/--frame-ratios/--stats, the paper's Table 1 (DESED 2021) is used.",
    )
    parser.add_argument("--volumes", type=float, nargs="+", metavar="V", help="V_c per class (number of source files)")
    parser.add_argument("--frame-ratios", type=float, nargs="+", metavar="R", help="r_c per class (share of positive frames)")
    parser.add_argument("--classes", nargs="+", help="class names (default: the 10 DESED classes)")
    parser.add_argument("--stats", help="JSON or YAML file with 'volumes', 'frame_ratios' and optional 'classes' (e.g. from `tbfl stats --json`)")
    parser.add_argument("--k", type=k_value, default=1000.0, help="k, ratio-to-samples factor (default 1000; 'inf' for volumes only; "
                        "'auto': the smallest two-digit k whose --k-auto-rule reaches --k-auto-target, docs/k-auto.md)")
    add_k_auto_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tbfl.weights import auto_k, class_names, tbfl_exponents, time_balanced_weights
    from tbfl.data.stats import read_class_statistics
    from tbfl.data.table1 import PAPER_TABLE1

    if args.stats:
        table = read_class_statistics(args.stats)
        classes, volumes, ratios = table.classes, table.volumes, table.frame_ratios
    elif args.volumes or args.frame_ratios:
        if not (args.volumes and args.frame_ratios):
            raise ValueError("give both --volumes and --frame-ratios (or --stats FILE)")
        classes, volumes, ratios = args.classes, args.volumes, args.frame_ratios
    else:
        classes, volumes, ratios = PAPER_TABLE1.classes, PAPER_TABLE1.volumes, PAPER_TABLE1.frame_ratios
    classes = class_names(len(volumes), classes)
    k = auto_k(volumes, ratios, args.k_auto_target, rule=args.k_auto_rule, classes=classes) if args.k == "auto" else args.k
    weights = time_balanced_weights(volumes, ratios, k, classes=classes)
    rows = [
        {"class": name, "volume": float(v), "frame_ratio": float(r), "exponent": "inf" if math.isinf(n) else int(n), "weight": float(w)}
        for name, v, r, n, w in zip(classes, volumes, ratios, tbfl_exponents(ratios, k), weights)
    ]
    auto = {"k_auto_target": args.k_auto_target, "k_auto_rule": args.k_auto_rule} if args.k == "auto" else {}
    if args.json:
        print(json.dumps({"k": "inf" if math.isinf(k) else k, **auto, "classes": rows}, indent=2))
        return 0
    chosen = f" (k: auto, {k_auto_condition(args.k_auto_rule, args.k_auto_target)})" if auto else ""
    print(f"TBFL weights, k = {k:g}{chosen} (sum = {sum(weights):.3f})")
    print(f"{'class':<28} {'V_c':>6} {'r_c':>8} {'floor(k r_c)':>13} {'w_c':>7}")
    for row in rows:
        print(f"{row['class']:<28} {row['volume']:>6g} {row['frame_ratio']:>8.4f} {row['exponent']:>13} {row['weight']:>7.3f}")
    return 0
