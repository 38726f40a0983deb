"""Training throughput (clips/s) on the CPU: the fast CPU path against the plain PyTorch path, and TBFL against BCE.

Real Lightning training steps (student + teacher forward, losses, backward,
Adam, EMA, features from the on-disk cache) on a generated ``tiny`` dataset
(its small weak and unlabeled sets make batches smaller than the configured
sizes; throughput counts the clips actually in each step), timed per step by
a callback after warm-up steps, one thread.

"plain" is the code before the fast path: ``CRNN.cpu_fast_path = False``
(nn.GRU's per-step autograd, NCHW convolutions) and glibc's default
allocator settings. "fast" is what ``tbfl train`` does on the CPU (channels-last
CNN, the C++ GLU of ``tbfl.fused_glu``, the fused GRU of ``tbfl.fused_gru``,
``keep_freed_memory``). The allocator
setting is per process and cannot be undone, so each measurement runs in a
fresh child process and the rounds alternate plain and fast; the ratio
compares the medians.

Run: ``.venv/bin/python benchmarks/bench_train.py [--rounds 3] [--steps 8]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch

from tbfl.data.dataset import desed2021
from tbfl.data.layout import DesedLayout
from tbfl.cpu_kernels import kernels
from tbfl.features import FeatureConfig
from tbfl.synth import generate_dataset
from tbfl.training.config import recipe_from_dict
from tbfl.training.cpu import keep_freed_memory
from tbfl.training.datamodule import DesedDataModule
from tbfl.training.module import MeanTeacherSED
from tbfl.training.train import _measure_and_weigh

MODELS = {
    "full": ({}, {}, (12, 12, 24)),
    "cpu-small": (
        {"n_mels": 64, "hop_length": 512},
        {"n_mels": 64, "filters": [8, 16, 32, 32, 32, 32], "pooling": [[1, 2], [2, 2], [1, 2], [1, 2], [1, 2], [1, 2]], "rnn_hidden": 32, "cnn_dropout": 0.0, "attention_softmax": "classes"},
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


def step_times(root: Path, cache: Path, model_name: str, loss: str, steps: int, fast: bool, warmup: int = 2) -> tuple[list[float], list[int]]:
    """Step durations (s) and clips per step of ``steps`` training steps."""
    features, model, batch_sizes = MODELS[model_name]
    recipe = recipe_from_dict({
        "data": {"root": str(root), "cache_dir": str(cache)}, "features": features, "model": model,
        "loss": {"name": loss}, "training": {"batch_sizes": list(batch_sizes), "max_epochs": 1000, "epoch_mode": "max_size_cycle"},
    })
    dataset = desed2021(DesedLayout(root))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights, _ = _measure_and_weigh(recipe, dataset)
    datamodule = DesedDataModule(
        dataset, frame_grid=recipe.frame_grid, batch_sizes=batch_sizes, feature_config=FeatureConfig(**features), cache_dir=cache, progress=False
    )
    module = MeanTeacherSED(model, recipe.to_dict()["loss"], recipe.to_dict()["training"], weights, dataset.classes, features=features)
    module.student.cpu_fast_path = module.teacher.cpu_fast_path = fast
    timer = StepTimer(warmup)
    trainer = L.Trainer(
        max_steps=steps + warmup + 1, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[timer],
    )
    trainer.fit(module, datamodule=datamodule)
    return timer.durations, timer.clips


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints JSON {seconds per step, clips per step}."""
    torch.set_num_threads(1)
    if args.path == "fast":
        keep_freed_memory()
    torch.manual_seed(0)
    if args.path == "fast" and kernels() is None:
        raise SystemExit("bench_train: the C++ CPU kernels are unavailable, so the fast path would not be measured")
    times, clips = step_times(Path(args.root), Path(args.cache), args.model, args.loss, args.steps, fast=args.path == "fast")
    print(json.dumps({"s_per_step": statistics.median(times), "clips_per_s": sum(clips) / sum(times), "clips_per_step": statistics.median(clips)}))


def measure(root: Path, cache: Path, model: str, path: str, loss: str, steps: int) -> dict:
    command = [sys.executable, __file__, "--child", "--root", str(root), "--cache", str(cache), "--model", model, "--path", path, "--loss", loss, "--steps", str(steps)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": os.environ.get("PATH", "")}).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="plain/fast (and BCE/TBFL) alternations")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per measurement")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS), help="CRNNs to measure (default: both)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="cpu-small", help=argparse.SUPPRESS)
    parser.add_argument("--path", default="fast", help=argparse.SUPPRESS)
    parser.add_argument("--loss", default="bce", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "tiny", Path(tmp) / "cache"
        generate_dataset(root, preset="tiny", seed=0, progress=False)
        print(f"torch {torch.__version__}, 1 thread, CPU; medians of {args.rounds} alternating rounds")
        print(f"{'model':<10} {'clips/step':>10} {'plain s/step':>13} {'fast s/step':>12} {'plain clips/s':>14} {'fast clips/s':>13} {'speed-up':>9}")
        for model in args.models:
            steps = args.steps if model == "cpu-small" else max(3, args.steps // 2)
            results = {"plain": [], "fast": []}
            for _ in range(args.rounds if model == "cpu-small" else 1):
                for path in ("plain", "fast"):
                    results[path].append(measure(root, cache, model, path, "bce", steps))
            plain, fast = ({key: statistics.median(r[key] for r in results[p]) for key in results[p][0]} for p in ("plain", "fast"))
            print(
                f"{model:<10} {fast['clips_per_step']:>10.0f} {plain['s_per_step']:>13.3f} {fast['s_per_step']:>12.3f} "
                f"{plain['clips_per_s']:>14.1f} {fast['clips_per_s']:>13.1f} {fast['clips_per_s'] / plain['clips_per_s']:>8.2f}x"
            )
        medians = {"bce": [], "tbfl": []}
        for _ in range(args.rounds):
            for loss in ("bce", "tbfl"):
                medians[loss].append(measure(root, cache, "cpu-small", "fast", loss, args.steps)["s_per_step"])
        bce, tbfl = statistics.median(medians["bce"]), statistics.median(medians["tbfl"])
        print(f"cpu-small fast step, median of {args.rounds} rounds x {args.steps} steps: BCE {bce:.3f} s, TBFL {tbfl:.3f} s, TBFL / BCE = {tbfl / bce:.3f}")


if __name__ == "__main__":
    main()
