"""`tbfl train`: the resume command printed after Ctrl-C works, with the run's --set overrides."""

import json
import shlex

import lightning as L
import pytest

from tbfl.cli import main
from tbfl.cli.train import resume_command
from tbfl.training.config import load_recipe
from tbfl.training.train import train_run


class StopAtStep(L.Callback):
    """Interrupt training mid-epoch, as Ctrl-C would."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == 3:
            raise KeyboardInterrupt


@pytest.fixture
def interrupted_run(tiny_config, tmp_path):
    """A run of the tiny recipe with two --set overrides, interrupted at step 3."""
    out = tmp_path / "run dir"  # a space: the printed command must quote it
    recipe = load_recipe(tiny_config, {"training.max_epochs": 2, "loss.gamma": 0.5})
    assert train_run(recipe, out, progress=False, callbacks=[StopAtStep()]).interrupted
    return out


@pytest.mark.slow  # trains a tiny model
def test_the_printed_resume_command_finishes_the_run(interrupted_run, tiny_config, capsys):
    command = resume_command(str(interrupted_run))
    # what the hint replaced: the recipe without its overrides is another config, refused
    assert main(["train", "--config", str(tiny_config), "--out", str(interrupted_run), "--resume", "--no-progress"]) == 2
    assert "different config" in capsys.readouterr().err
    args = shlex.split(command)
    assert args[:2] == ["tbfl", "train"]
    assert main(args[1:] + ["--no-progress"]) == 0
    metrics = json.loads((interrupted_run / "metrics.json").read_text())
    assert metrics["training"]["steps"] == 8 and metrics["training"]["epochs_trained"] == 2  # the overridden max_epochs


@pytest.mark.slow  # trains a tiny model
def test_resume_takes_the_runs_own_config_file(interrupted_run):
    config = interrupted_run / "config.yaml"
    assert main(["train", "--config", str(config), "--out", str(interrupted_run), "--resume", "--no-progress"]) == 0
    assert (interrupted_run / "metrics.json").is_file()


def test_config_is_required_without_a_run_to_resume(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "new")]) == 2
    assert "--config is required" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "new"), "--resume"]) == 2
    assert "config.yaml" in capsys.readouterr().err


@pytest.mark.slow  # trains a tiny model
def test_training_stderr_shows_what_a_user_can_act_on(tiny_config, tmp_path):
    """No Lightning "Tip" advert, no `weights_only` line per checkpoint, no torch deprecation that Lightning
    triggers; tbfl's own warnings in the one tbfl style."""
    import os
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-m", "tbfl", "train", "--config", str(tiny_config), "--out", str(tmp_path / "run"),
                            "--set", "training.max_epochs=2", "--no-progress"], capture_output=True, text=True, env={**os.environ})
    assert child.returncode == 0, child.stderr[-3000:]
    lines = child.stderr.splitlines()
    for noise in ("Tip", "weights_only", "LeafSpec", "limit_train_batches", "Warning:", ".py:"):
        assert not [line for line in lines if noise in line], noise
    assert any(line.startswith("tbfl train: warning: floor(k * r_c) = 0") for line in lines)  # the tiny set's empty class
    assert "`Trainer.fit` stopped: `max_epochs=2` reached." in lines
