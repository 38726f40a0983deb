"""Training throughput (clips/s) on the CPU, and the cost of a TBFL step relative to a BCE step.

Real Lightning training steps (student + teacher forward, losses, backward,
Adam, EMA, features from the on-disk cache) on a generated ``tiny`` dataset
(its small weak and unlabeled sets make batches smaller than the configured
sizes; throughput counts the clips actually in each step), timed per step by
a callback after warm-up steps. The TBFL/BCE ratio
alternates the two losses over several rounds in one process and compares
the median step times.

Run: ``.venv/bin/python benchmarks/bench_train.py [--rounds 3] [--steps 8]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch

from tbfl.data.layout import DesedLayout
from tbfl.features import FeatureConfig
from tbfl.synth import generate_dataset
from tbfl.training.datamodule import DesedDataModule
from tbfl.training.module import MeanTeacherSED
from tbfl.training.train import class_weights_for
from tbfl.training.config import recipe_from_dict

MODELS = {
    "full (baseline, 1.11 M)": ({}, {}, (12, 12, 24)),
    "cpu-small (71 k)": (
        {"n_mels": 64, "hop_length": 512},
        {"n_mels": 64, "filters": [8, 16, 32, 32, 32, 32], "pooling": [[1, 2], [2, 2], [1, 2], [1, 2], [1, 2], [1, 2]], "rnn_hidden": 32, "cnn_dropout": 0.0},
        (8, 8, 8),
    ),
}


class StepTimer(L.Callback):
    """Seconds and clips of every step after ``warmup`` steps."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.durations, self.clips, self._start = warmup, [], [], 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step > self.warmup:
            self.durations.append(time.perf_counter() - self._start)
            self.clips.append(sum(len(part[0]) for part in batch.values()))


def step_times(root: Path, cache: Path, features: dict, model: dict, batch_sizes, loss: str, steps: int, warmup: int = 2) -> tuple[list[float], list[int]]:
    """Step durations (s) and clips per step of ``steps`` training steps."""
    recipe = recipe_from_dict({
        "data": {"root": str(root), "cache_dir": str(cache)}, "features": features, "model": model,
        "loss": {"name": loss}, "training": {"batch_sizes": list(batch_sizes), "max_epochs": 1000, "epoch_mode": "max_size_cycle"},
    })
    layout = DesedLayout(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights, _ = class_weights_for(recipe, layout)
    datamodule = DesedDataModule(layout, batch_sizes=batch_sizes, feature_config=FeatureConfig(**features), cache_dir=cache)
    module = MeanTeacherSED(model, recipe.to_dict()["loss"], recipe.to_dict()["training"], weights)
    timer = StepTimer(warmup)
    trainer = L.Trainer(
        max_steps=steps + warmup + 1, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[timer],
    )
    trainer.fit(module, datamodule=datamodule)
    return timer.durations, timer.clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="BCE/TBFL alternations for the ratio")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per measurement")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "tiny", Path(tmp) / "cache"
        generate_dataset(root, preset="tiny", seed=0, progress=False)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
        print(f"{'model':<26} {'clips/step':>10} {'s/step':>8} {'clips/s':>8}")
        for name, (features, model, batch_sizes) in MODELS.items():
            times, clips = step_times(root, cache, features, model, batch_sizes, "bce", max(3, args.steps // 2))
            print(f"{name:<26} {statistics.median(clips):>10} {statistics.median(times):8.3f} {sum(clips) / sum(times):8.1f}")
        features, model, batch_sizes = MODELS["cpu-small (71 k)"]
        medians = {"bce": [], "tbfl": []}
        for _ in range(args.rounds):
            for loss in ("bce", "tbfl"):
                medians[loss].append(statistics.median(step_times(root, cache, features, model, batch_sizes, loss, args.steps)[0]))
        bce, tbfl = statistics.median(medians["bce"]), statistics.median(medians["tbfl"])
        print(f"cpu-small step, median of {args.rounds} rounds x {args.steps} steps: BCE {bce:.3f} s, TBFL {tbfl:.3f} s, TBFL / BCE = {tbfl / bce:.3f}")


if __name__ == "__main__":
    main()
