"""Re-score archived runs' PSDS1 and PSDS2 with psds_eval, outside tbfl's evaluation code.

    python scripts/rescore_runs.py --data-root .study2-worktree/data/study2 docs/study2/runs/<run> ...

Each run folder holds ``validation_scores.npz`` (the teacher's float16 frame probabilities on the held-out
validation set, as training stores them), ``metrics.json`` and ``config.yaml``, whose ``data.root`` names the
dataset under ``--data-root``. The scores are median-filtered (scipy, mirrored edges), thresholded at the 50
thresholds 0.01, 0.03, ..., 0.99 and decoded into events here; psds_eval scores those operating points against the
dataset's ``metadata/validation/validation.tsv``. Prints a Markdown table of both values beside the run's own.
The stored scores are float16, so a threshold crossing can move by a frame: expect agreement to about 1e-3.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from psds_eval import PSDSEval
from scipy.ndimage import median_filter

#: (dtc, gtc, cttc, alpha_ct) of the DCASE 2021 PSDS scenarios; alpha_st 1, e_max 100 per hour.
SCENARIOS = {"psds1": (0.7, 0.7, 0.3, 0.0), "psds2": (0.1, 0.1, 0.3, 0.5)}
THRESHOLDS = np.round(np.arange(0.01, 1.0, 0.02), 2)
MEDIAN_FILTER_FRAMES = 7  # 0.45 s at the 64 ms hop


def detections(filenames: np.ndarray, probabilities: np.ndarray, classes: list[str], hop_s: float,
               durations_s: dict[str, float], threshold: float) -> pd.DataFrame:
    """Events (filename, onset, offset, event_label) where a class's filtered score exceeds ``threshold``;
    ``probabilities``: (n_clips, n_classes, n_frames)."""
    active = np.pad(probabilities > threshold, ((0, 0), (0, 0), (1, 1)))
    changes = np.diff(active.astype(np.int8), axis=2)
    rows = []
    for clip, name in enumerate(filenames):
        for c, label in enumerate(classes):
            starts, ends = np.flatnonzero(changes[clip, c] == 1), np.flatnonzero(changes[clip, c] == -1)
            rows += [(name, start * hop_s, min(end * hop_s, durations_s[name]), label) for start, end in zip(starts, ends)]
    return pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])


def rescore(run: Path, data_root: Path) -> dict[str, float]:
    """PSDS1 and PSDS2 of ``run``'s stored validation scores, by psds_eval."""
    dataset = data_root / Path(yaml.safe_load((run / "config.yaml").read_text())["data"]["root"]).name
    stored = np.load(run / "validation_scores.npz")
    probabilities = median_filter(stored["probabilities"].astype(np.float32), size=(1, 1, MEDIAN_FILTER_FRAMES), mode="reflect")
    ground_truth = pd.read_csv(dataset / "metadata/validation/validation.tsv", sep="\t")
    metadata = pd.read_csv(dataset / "metadata/validation/validation_durations.tsv", sep="\t")
    durations_s = dict(zip(metadata["filename"], metadata["duration"]))
    classes, hop_s = [str(c) for c in stored["classes"]], float(stored["frame_hop_s"])
    values = {}
    for name, (dtc, gtc, cttc, alpha_ct) in SCENARIOS.items():
        evaluator = PSDSEval(dtc, gtc, cttc, ground_truth=ground_truth, metadata=metadata)
        for threshold in THRESHOLDS:
            evaluator.add_operating_point(detections(stored["filenames"], probabilities, classes, hop_s, durations_s, threshold))
        values[name] = float(evaluator.psds(alpha_ct, 1.0, 100.0).value)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="archived run folders")
    parser.add_argument("--data-root", type=Path, required=True, help="folder holding each run's dataset, by name")
    args = parser.parse_args()
    print("| run | PSDS1 psds_eval | PSDS1 run | PSDS2 psds_eval | PSDS2 run | largest difference |")
    print("|---|---|---|---|---|---|")
    for run in args.runs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # psds_eval's pandas deprecations and "similar operating point" notices
            values = rescore(run, args.data_root)
        own = json.loads((run / "metrics.json").read_text())
        largest = max(abs(values[name] - own[name]) for name in SCENARIOS)
        print(f"| {run.name} | {values['psds1']:.4f} | {own['psds1']:.4f} | {values['psds2']:.4f} | {own['psds2']:.4f} | {largest:.5f} |")


if __name__ == "__main__":
    main()
