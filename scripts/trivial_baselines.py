"""Scores of trivial systems on a dataset's validation set: all-zero and random frame scores.

The floor any trained model must clear. Run: ``.venv/bin/python scripts/trivial_baselines.py data/small``
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from scipy.ndimage import uniform_filter1d

from tbfl.constants import DESED_CLASSES, N_FRAMES
from tbfl.data.desed import read_durations_tsv, read_strong_tsv
from tbfl.data.layout import DesedLayout
from tbfl.evaluation import clip_id, evaluate_scores


def main(root: str) -> None:
    layout = DesedLayout(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = read_strong_tsv(layout.path("validation_tsv"))
    durations = read_durations_tsv(layout.path("validation_durations_tsv"))
    rng = np.random.default_rng(0)
    shape = (len(DESED_CLASSES), N_FRAMES)
    systems = {
        "all-zero": lambda: np.zeros(shape),
        "uniform random": lambda: rng.random(shape),
        "random, smoothed over 1 s": lambda: uniform_filter1d(rng.random(shape), 15, axis=1),
    }
    print(f"{'system':<28} {'PSDS1':>6} {'PSDS2':>6} {'event-F1 best':>14} {'event-F1 @0.5':>14} {'intersection-F1':>16}")
    for name, make in systems.items():
        result = evaluate_scores({clip_id(f): make() for f in durations}, labels, durations)
        print(f"{name:<28} {result.psds1.value:6.3f} {result.psds2.value:6.3f} {result.event_f1_best.f1_macro:14.3f} "
              f"{result.event_f1.f1_macro:14.3f} {result.intersection_f1.f1_macro:16.3f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/small")
