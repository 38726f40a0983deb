"""The tables of docs/k-auto.md: ``k: auto`` under both rules (median, geomean) on datasets' statistics.

    tbfl stats DATASET --config cpu-small --json --out DATASET.json     # once per dataset
    python scripts/k_auto_rules.py DATASET.json ...

For each statistics file (V_c and r_c, as ``tbfl stats --out`` writes them): the k each rule chooses, the spread of
the TBFL weights there (largest / smallest), and the rule's sensitivity: the largest factor by which its k moves
when one class's r_c is halved or doubled (every class in turn, r_c capped at 1). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from tbfl.data.stats import read_class_statistics
from tbfl.weights import K_AUTO_RULES, auto_k, time_balanced_weights


def sensitivity(volumes: np.ndarray, frame_ratios: np.ndarray, rule: str) -> float:
    """The largest factor (>= 1) by which ``rule``'s k moves when one class's r_c is halved or doubled."""
    k = auto_k(volumes, frame_ratios, rule=rule)
    worst = 1.0
    for c in range(frame_ratios.size):
        for factor in (0.5, 2.0):
            changed = frame_ratios.copy()
            changed[c] = min(1.0, changed[c] * factor)
            moved = auto_k(volumes, changed, rule=rule)
            worst = max(worst, moved / k, k / moved)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("statistics", nargs="+", help="statistics files written by `tbfl stats --out` (JSON or YAML)")
    args = parser.parse_args()
    header = ["dataset"] + [f"{rule}: {column}" for rule in K_AUTO_RULES for column in ("k", "weights max / min", "k moves up to")]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for path in args.statistics:
        table = read_class_statistics(path)
        volumes, ratios = np.asarray(table.volumes, dtype=float), np.asarray(table.frame_ratios, dtype=float)
        cells = [Path(path).stem]
        for rule in K_AUTO_RULES:
            k = auto_k(volumes, ratios, rule=rule, classes=table.classes)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # floor(k r_c) = 0: the weights' documented rule, not this table's business
                weights = time_balanced_weights(volumes, ratios, k, classes=table.classes)
            cells += [f"{k:g}", f"{weights.max() / weights.min():.2f}", f"{sensitivity(volumes, ratios, rule):.2f}x"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
