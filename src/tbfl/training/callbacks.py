"""Lightning callbacks of the recipe: the learning curve, and the checkpoint a run resumes from."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Checkpoint

from tbfl.io import atomic_path, atomic_write_text

#: Columns of ``learning_curve.csv``: one row per validation, the objective of both networks.
CURVE_COLUMNS = (
    "epoch",
    "step",
    "student_objective",
    "teacher_objective",
    "student_weak_f1",
    "teacher_weak_f1",
    "student_synth_intersection_f1",
    "teacher_synth_intersection_f1",
    "monitor",
)


class LearningCurve(L.Callback):
    """Appends the validation metrics of every epoch to ``path`` (CSV, rewritten atomically).

    ``monitor`` names the metric that picks the best checkpoint (its value is the
    last column). The rows travel in the checkpoints, so a resumed run continues its curve
    instead of repeating or losing epochs.
    """

    def __init__(self, path: str | Path, monitor: str) -> None:
        self.path, self.monitor = Path(path), monitor
        self.rows: list[dict] = []

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = trainer.callback_metrics
        row = {"epoch": trainer.current_epoch + 1, "step": trainer.global_step}
        for network in ("student", "teacher"):
            for name in ("objective", "weak_f1", "synth_intersection_f1"):
                row[f"{network}_{name}"] = float(metrics[f"val/{network}/{name}"])
        row["monitor"] = float(metrics[self.monitor])
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CURVE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buffer.getvalue())

    def best(self) -> dict | None:
        """The first row with the highest monitored value (the epoch of the best checkpoint)."""
        return max(self.rows, key=lambda row: row["monitor"], default=None)

    def state_dict(self) -> dict:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = list(state_dict.get("rows", []))


class ResumePoint(Checkpoint):
    """Writes ``path`` (``last.ckpt``, for ``--resume``) every ``every_n_steps`` steps and at each epoch's end.

    A checkpoint written on an epoch's last step restores as "epoch trained", and Lightning would go on
    without that epoch's validation: a learning-curve row and an early-stopping count lost. So the last step
    is saved at the epoch's end instead, after the validation, early stopping and the best checkpoint (a
    ``Checkpoint`` runs after those), with all their states. Each write replaces ``path`` atomically.
    """

    def __init__(self, path: str | Path, every_n_steps: int) -> None:
        self.path, self.every_n_steps = Path(path), every_n_steps

    def save(self, trainer: L.Trainer) -> None:
        """Write the trainer's state to ``path`` (every rank calls it; only rank 0 writes, through ``atomic_path``)."""
        with atomic_path(self.path) if trainer.is_global_zero else contextlib.nullcontext(self.path) as target:
            trainer.save_checkpoint(target, weights_only=False)  # said explicitly: Lightning logs its default each time

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int) -> None:
        if trainer.global_step % self.every_n_steps == 0 and batch_idx + 1 < trainer.num_training_batches:
            self.save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.save(trainer)
