"""One short real training run per competing loss (asl, labce, owbce) through train_run and the Lightning module."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.losses import AsymmetricLoss, LogitAdjustedBCE, OnsetOffsetWeightedBCE
from tbfl.training.module import MeanTeacherSED
from tbfl.training.train import train_run

MODULES = {"asl": AsymmetricLoss, "labce": LogitAdjustedBCE, "owbce": OnsetOffsetWeightedBCE}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_one_epoch_with_each_competing_loss(name, make_recipe, tiny_root, tmp_path):
    recipe = make_recipe(loss__name=name, training__max_epochs=1, training__limit_train_batches=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # labce: the tiny set's class without frames
        result = train_run(recipe, tmp_path / "run", progress=False)
    assert result.global_step == 2 and not result.interrupted
    log = pd.read_csv(result.run_dir / "logs" / "metrics.csv")
    supervised = log[["train/strong_loss", "train/weak_loss"]].dropna().to_numpy()
    assert len(supervised) == 2 and np.isfinite(supervised).all() and (supervised > 0).all()
    module = MeanTeacherSED.load_from_checkpoint(result.run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert type(module.loss_fn) is MODULES[name]
    saved = json.loads((result.run_dir / "class_weights.json").read_text())
    if name == "labce":  # the prior travels as the loss's per-class vector, measured on the recipe's frame grid
        grid = recipe.frame_grid
        rates = measure_stats(DesedLayout(tiny_root), n_frames=grid.n_frames, frame_hop_s=grid.frame_hop_s).frame_rates
        np.testing.assert_allclose(saved["statistics"]["frame_rates"], rates, rtol=1e-12)
        prior = np.clip(rates, 1e-4, 1 - 1e-4)  # the tiny set has no Alarm_bell_ringing frame: clipped, with a warning
        np.testing.assert_allclose(saved["weights"], prior, rtol=1e-12)
        assert torch.allclose(module.loss_fn.prior, torch.as_tensor(prior, dtype=torch.float32))
    else:
        assert saved["weights"] is None
