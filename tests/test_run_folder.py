"""The run-folder contract: lock, damaged checkpoints, typed metrics, sweep states."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tbfl.cli import main
from tbfl.experiments.sweep import run_state
from tbfl.run_folder import CheckpointError, RunFolder, RunFolderBusy, RunMetrics, check_checkpoint

SRC = str(Path(__file__).resolve().parents[1] / "src")


def truncated_checkpoint(path: Path) -> Path:
    """A real torch checkpoint cut to half its bytes (as a full disk or a killed copy leaves it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.zeros(1000)}, "hyper_parameters": {}}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_lock_refuses_a_second_holder_and_is_released(tmp_path):
    folder = RunFolder(tmp_path / "run")
    with folder.lock():
        with pytest.raises(RunFolderBusy, match=rf"{tmp_path / 'run'}: run folder in use by process {os.getpid()}"):
            with folder.lock():
                pass
    with folder.lock():  # released on exit
        pass


@pytest.mark.slow  # trains a tiny model
def test_two_concurrent_trainings_into_one_folder_exactly_one_refused(tiny_config, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "tbfl", "train", "--config", str(tiny_config), "--out", str(out), "--no-progress", "--accelerator", "cpu"]
    first = subprocess.Popen([*command, "--set", "training.max_epochs=4"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = out / ".lock"
    deadline = time.monotonic() + 120
    while not (lock.is_file() and lock.read_text().strip() == str(first.pid)):
        assert first.poll() is None and time.monotonic() < deadline, "the first training never took the lock"
        time.sleep(0.05)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    first_out, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err
    assert second.returncode == 2
    assert second.stderr.strip() == f"tbfl train: error: {out}: run folder in use by process {first.pid}; wait for it or choose another --out"
    assert RunFolder(out).is_finished()


def test_truncated_checkpoint_in_detect_is_one_line_exit_2(tmp_path, capsys):
    checkpoint = truncated_checkpoint(tmp_path / "run" / "checkpoints" / "best-epoch=001.ckpt")
    audio = tmp_path / "clip.wav"
    assert main(["detect", str(checkpoint), str(audio), "--out", str(tmp_path / "events.tsv"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"tbfl detect: error: {checkpoint}: damaged checkpoint (")
    assert "use a best-*.ckpt of the same run folder, or start a fresh run (new --out)" in err


def test_truncated_last_checkpoint_on_resume_is_one_line_exit_2(tiny_config, tmp_path, capsys):
    out = tmp_path / "run"
    last = truncated_checkpoint(RunFolder(out).last_checkpoint)
    before = last.read_bytes()
    assert main(["train", "--config", str(tiny_config), "--out", str(out), "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"tbfl train: error: {last}: damaged checkpoint (")
    assert "best-*.ckpt" in err and "fresh run" in err
    assert last.read_bytes() == before and not (out / "config.yaml").exists()  # nothing touched


def test_check_checkpoint_reads_a_whole_one(tmp_path):
    path = tmp_path / "ok.ckpt"
    torch.save({"state_dict": {"w": torch.ones(3)}}, path)
    assert torch.equal(check_checkpoint(path)["state_dict"]["w"], torch.ones(3))
    torch.save([1, 2], path)
    with pytest.raises(CheckpointError, match="not a tbfl checkpoint"):
        check_checkpoint(path)


def test_run_metrics_from_dict_and_errors(tmp_path):
    values = {"psds1": 0.25, "psds2": 0.5, "event_f1": 0.125, "event_f1_best": 0.375, "intersection_f1": 0.75, "checkpoint": "best-epoch=003.ckpt",
              "details": {"psds1": {"per_class": {"Dog": 0.5}}, "event_f1_best": {"per_class": {"Dog": {"f1": 0.25}}}},
              "networks": {"student": {}, "teacher": {}}, "training": {"epochs_trained": 3, "stop_reason": "max_epochs (3)"}}
    metrics = RunMetrics.from_dict(values)
    assert (metrics.psds1, metrics.psds2, metrics.event_f1, metrics.intersection_f1) == (0.25, 0.5, 0.125, 0.75)
    assert metrics.value("event_f1_best") == 0.375 and metrics.training["epochs_trained"] == 3
    assert metrics.per_class("psds1") == {"Dog": 0.5} and metrics.per_class("event_f1_best") == {"Dog": 0.25}
    folder = RunFolder(tmp_path)
    folder.metrics.write_text(json.dumps(values))
    assert folder.best_checkpoint() == tmp_path / "checkpoints" / "best-epoch=003.ckpt"
    folder.metrics.write_text('{"psds1": 0.1,\n oops}')
    with pytest.raises(ValueError, match=rf"{folder.metrics}:2: invalid JSON"):
        folder.read_metrics()
    with pytest.raises(ValueError, match=r"missing key\(s\) \['psds2'"):
        RunMetrics.from_dict({"psds1": 0.1})


def test_sweep_run_state(tmp_path):
    run = tmp_path / "bce_s1"
    assert run_state(run) == "to run"
    truncated_checkpoint(RunFolder(run).last_checkpoint)
    assert run_state(run) == "started, will resume"
    RunFolder(run).metrics.write_text("{}")
    assert run_state(run) == "finished"
