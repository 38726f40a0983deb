"""scripts/rescore_runs.py re-scores a run's stored validation scores with psds_eval and agrees with tbfl's value."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tbfl.evaluation import evaluate_scores

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rescore_runs.py"
CLASSES = ("Dog", "Speech", "Frying")
HOP_S, N_FRAMES = 0.064, 156


def a_run(tmp_path, n_clips=24):
    """A dataset of ``n_clips`` 10-s clips with events of 1-3 classes each, and a run whose stored float16 scores are
    the truth, shifted, with smooth noise that makes false alarms and misses, and metrics.json's PSDS1 and PSDS2 from
    tbfl's evaluation of those same scores."""
    rng = np.random.default_rng(0)
    frames_s = np.arange(N_FRAMES) * HOP_S
    rows, truth = [], np.zeros((n_clips, len(CLASSES), N_FRAMES))
    for clip in range(n_clips):
        for c in rng.choice(len(CLASSES), size=rng.integers(1, 4), replace=False):
            onset_s = rng.uniform(0, 8)
            offset_s = min(10.0, onset_s + rng.uniform(0.3, 4))
            rows.append((f"validation_{clip:05d}.wav", round(onset_s, 3), round(offset_s, 3), CLASSES[c]))
            truth[clip, c] = (frames_s >= onset_s + rng.normal(0, 0.3)) & (frames_s < offset_s + rng.normal(0, 0.3))
    noise = np.apply_along_axis(lambda row: np.convolve(row, np.ones(9) / 9, mode="same"), 2, rng.normal(0, 1, truth.shape))
    probabilities = (1 / (1 + np.exp(-(5 * truth - 2.5 + 4 * noise)))).astype(np.float16)
    filenames = [f"validation_{clip:05d}.wav" for clip in range(n_clips)]
    labels = pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])
    folder = tmp_path / "data" / "world-1" / "metadata" / "validation"
    folder.mkdir(parents=True)
    labels.to_csv(folder / "validation.tsv", sep="\t", index=False)
    pd.DataFrame({"filename": filenames, "duration": 10.0}).to_csv(folder / "validation_durations.tsv", sep="\t", index=False)
    run = tmp_path / "runs" / "world-1-bce_s1"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"data": {"root": "elsewhere/world-1"}}))
    np.savez_compressed(run / "validation_scores.npz", filenames=np.array(filenames), probabilities=probabilities,
                        classes=np.array(CLASSES), frame_hop_s=HOP_S)
    result = evaluate_scores({f[:-4]: p.astype(np.float32) for f, p in zip(filenames, probabilities)}, labels,
                             {f[:-4]: 10.0 for f in filenames}, CLASSES, frame_hop_s=HOP_S)
    (run / "metrics.json").write_text(json.dumps({"psds1": result.psds1.value, "psds2": result.psds2.value}))
    return run, result


def test_psds_eval_on_the_stored_scores_agrees_with_the_run_s_own_values(tmp_path):
    run, result = a_run(tmp_path)
    assert 0.1 < result.psds1.value < 0.5 and 0.5 < result.psds2.value < 0.99  # neither trivial nor perfect
    done = subprocess.run([sys.executable, str(SCRIPT), "--data-root", str(tmp_path / "data"), str(run)],
                          capture_output=True, text=True, check=True, timeout=300)
    row = done.stdout.splitlines()[2].strip("| ").split(" | ")
    assert row[0] == "world-1-bce_s1"
    assert abs(float(row[1]) - result.psds1.value) < 1e-3 and abs(float(row[3]) - result.psds2.value) < 1e-3
    assert row[2] == f"{result.psds1.value:.4f}" and float(row[5]) < 1e-3
