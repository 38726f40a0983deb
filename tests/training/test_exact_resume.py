"""A run killed with SIGKILL (after a step's checkpoint) and resumed ends bit-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from tbfl.training.train import train_run

#: The child process: train the recipe, SIGKILL itself right after step KILL_STEP's checkpoint (deterministic, not timed).
CHILD = """
import os, signal, sys
import lightning as L
from tbfl.training.config import load_recipe
from tbfl.training.train import train_run

class KillAtStep(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)

train_run(load_recipe(sys.argv[1]), sys.argv[2], progress=False, callbacks=[KillAtStep()])
"""


def last_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]


@pytest.fixture(scope="module")
def straight(make_recipe_module, tmp_path_factory):
    """3 epochs of 4 steps, a checkpoint after every step, trained without a break."""
    recipe = make_recipe_module(training__max_epochs=3, training__checkpoint_every_n_steps=1)
    folder = tmp_path_factory.mktemp("straight")
    config = folder / "recipe.yaml"
    config.write_text(recipe.to_yaml())
    train_run(recipe, folder / "run", progress=False)
    return recipe, config, folder / "run"


# step 1: the first step; 4: the first epoch's last step, killed before its validation; 6: mid-epoch 2
@pytest.mark.slow  # trains a tiny model
@pytest.mark.parametrize("kill_step", [1, 4, 6])
def test_a_run_killed_and_resumed_equals_the_uninterrupted_run(straight, tmp_path, kill_step):
    recipe, config, reference = straight
    run_dir = tmp_path / "run"
    child = subprocess.run([sys.executable, "-c", CHILD, str(config), str(run_dir), str(kill_step)], env={**os.environ},
                           capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert not (run_dir / "metrics.json").exists()
    train_run(recipe, run_dir, progress=False, resume=True)
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "learning_curve.csv"), pd.read_csv(reference / "learning_curve.csv"))
    expected, resumed = last_weights(reference), last_weights(run_dir)
    assert expected.keys() == resumed.keys()
    for name in expected:  # student and the EMA teacher, bit for bit
        assert torch.equal(expected[name], resumed[name]), name
