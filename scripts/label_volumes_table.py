"""The table of docs/own-data.md: V_c from the soundbank against V_c from the strong labels, and their TBFL weights.

    python scripts/label_volumes_table.py data/small      # `tbfl synth --out data/small --preset small --seed 0`

For each definition of V_c (soundbank files; strong training clips holding the class; strong training events),
k is chosen by ``k: auto`` (docs/k-auto.md) and the weights are computed at that k. Prints a Markdown table, then
the spread of log(label count / soundbank V_c) over classes and the correlation of each label weighting with the
soundbank's.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.weights import auto_k, time_balanced_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a DESED-layout dataset with a soundbank, e.g. data/small")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # clips without audio, floor(k r_c) = 0: not this table's business
        stats = measure_stats(DesedLayout(args.dataset))
    counts = {"soundbank": stats.volumes, "clips": stats.label_volumes, "events": stats.n_events}
    ks = {name: auto_k(volumes, stats.frame_ratios, classes=stats.classes) for name, volumes in counts.items()}
    weights = {name: time_balanced_weights(volumes, stats.frame_ratios, ks[name], classes=stats.classes) for name, volumes in counts.items()}
    print("| class | soundbank V_c | clips | events | r_c | " + " | ".join(f"w_c {name} (k = {ks[name]:g})" for name in counts) + " |")
    print("|---|" + "---:|" * (4 + len(counts)))
    for c, name in enumerate(stats.classes):
        cells = [str(counts["soundbank"][c]), str(counts["clips"][c]), str(counts["events"][c]), f"{stats.frame_ratios[c]:.4f}"]
        cells += [f"{weights[key][c]:.2f}" for key in counts]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    for name in ("clips", "events"):
        spread = np.std(np.log(counts[name] / counts["soundbank"]))
        correlation = np.corrcoef(weights[name], weights["soundbank"])[0, 1]
        largest = np.abs(weights[name] - weights["soundbank"])
        print(f"{name}: spread of log({name} / soundbank V_c) {spread:.2f}; weights' correlation with the soundbank's {correlation:.2f}; "
              f"{int((largest <= 0.2).sum())} of {len(largest)} classes within 0.2 of the soundbank's weight")
    print(f"clips against events: largest weight difference {np.abs(weights['clips'] - weights['events']).max():.2f}")


if __name__ == "__main__":
    main()
