"""Lightning callbacks of the recipe: the learning curve, and the reason a run stopped."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import lightning as L

from tbfl.io import atomic_write_text

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
