"""Two-process DDP on the CPU (gloo) through the real CLI: the same code path as multi-GPU runs."""

import json
import subprocess
import sys

import pandas as pd


def test_ddp_two_cpu_processes(tiny_config, tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "tbfl", "train", "--config", str(tiny_config), "--out", str(run),
               "--devices", "2", "--accelerator", "cpu", "--no-progress", "--set", "training.max_epochs=1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    # 16 strong clips, 4 per batch, split over 2 ranks: 2 optimiser steps in the epoch
    log = pd.read_csv(run / "logs" / "metrics.csv")
    assert log["step"].max() == 1
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["psds1"] <= 1.0
    assert len(list((run / "scores" / "validation").glob("*.tsv"))) == 6
