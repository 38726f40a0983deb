"""The run folder of ``tbfl train``: its layout, its lock, and typed readers of what it holds.

Layout (names kept from the first release, so archived runs stay readable):
    config.yaml              the recipe used (a resumed run must have the same)
    class_weights.json       dataset statistics (V_c, r_c on the run's frame grid, ...) and the loss's class weights
    checkpoints/last.ckpt    every ``checkpoint_every_n_steps`` steps and at each epoch's end (for --resume)
    checkpoints/best-*.ckpt  best by ``training.monitor``
    logs/                    CSV (metrics.csv) and TensorBoard logs
    scores/validation/       frame scores of the validation set on the run's frame grid, sed_scores TSV, one file per clip
    validation_scores.npz    the same frame scores in one file, float16
    synth_validation_scores.npz  frame scores of the synthetic validation clips (float16), on which the
                             event-F1 threshold ``event_f1_synth_threshold_value`` of metrics.json was chosen
    weak_validation_logits.npz  frame logits of the weak-validation clips (for the histograms)
    learning_curve.csv       the validation objective of student and teacher after every epoch
    metrics.json             metrics of ``eval_model`` (both networks under ``networks``) and how training
                             ended; written last: its presence marks a finished run
    .lock                    held (flock) by the one process writing into the folder
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

CONFIG_FILE = "config.yaml"
CLASS_WEIGHTS_FILE = "class_weights.json"
CHECKPOINTS_DIR = "checkpoints"
LAST_CHECKPOINT = "last.ckpt"
BEST_CHECKPOINT_PATTERN = "best-*.ckpt"
LOGS_DIR = "logs"
SCORES_DIR = "scores/validation"
VALIDATION_SCORES_FILE = "validation_scores.npz"
SYNTH_VALIDATION_SCORES_FILE = "synth_validation_scores.npz"
WEAK_LOGITS_FILE = "weak_validation_logits.npz"
LEARNING_CURVE_FILE = "learning_curve.csv"
METRICS_FILE = "metrics.json"
LOCK_FILE = ".lock"
#: The small files that summarise a finished run (no checkpoints): what a sweep archive keeps.
SUMMARY_FILES = (
    CONFIG_FILE, CLASS_WEIGHTS_FILE, LEARNING_CURVE_FILE, WEAK_LOGITS_FILE, VALIDATION_SCORES_FILE, SYNTH_VALIDATION_SCORES_FILE, METRICS_FILE
)


class RunFolderBusy(ValueError):
    """Another process holds the run folder's lock."""


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read (truncated, corrupt, not a checkpoint)."""


@dataclass(frozen=True)
class RunFolder:
    """Paths of one run folder; nothing is read or created until asked."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def class_weights(self) -> Path:
        return self.path / CLASS_WEIGHTS_FILE

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS_DIR

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / LAST_CHECKPOINT

    @property
    def logs(self) -> Path:
        return self.path / LOGS_DIR

    @property
    def scores(self) -> Path:
        return self.path / SCORES_DIR

    @property
    def validation_scores(self) -> Path:
        return self.path / VALIDATION_SCORES_FILE

    @property
    def synth_validation_scores(self) -> Path:
        return self.path / SYNTH_VALIDATION_SCORES_FILE

    @property
    def weak_logits(self) -> Path:
        return self.path / WEAK_LOGITS_FILE

    @property
    def learning_curve(self) -> Path:
        return self.path / LEARNING_CURVE_FILE

    @property
    def metrics(self) -> Path:
        return self.path / METRICS_FILE

    def is_finished(self) -> bool:
        return self.metrics.is_file()

    def read_metrics(self) -> "RunMetrics":
        return read_metrics(self.metrics)

    def read_class_weights(self) -> dict[str, Any]:
        """The class_weights.json record ({} when absent): loss, classes, weights, statistics (and frame_grid, the grid r_c was counted on)."""
        return json.loads(self.class_weights.read_text(encoding="utf-8")) if self.class_weights.is_file() else {}

    def best_checkpoint(self) -> Path:
        """The checkpoint metrics.json names (a finished run's best)."""
        if not self.is_finished():
            raise FileNotFoundError(f"{self.path}: not a finished `tbfl train` run folder (no {METRICS_FILE} naming its best checkpoint)")
        return self.checkpoints / self.read_metrics().checkpoint

    def lock(self) -> "RunLock":
        return RunLock(self.path / LOCK_FILE)


class RunLock:
    """An exclusive, non-blocking ``flock`` on ``<run>/.lock``; released on exit or when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunFolderBusy(f"{self.path.parent}: run folder in use by process {holder}; wait for it or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock; the file stays (unlinking would race)
            self._fd = None


@dataclass(frozen=True)
class RunMetrics:
    """metrics.json: the headline metrics of ``eval_model``, per-class details, both networks, how training ended."""

    psds1: float
    psds2: float
    event_f1: float
    intersection_f1: float
    checkpoint: str
    eval_model: str = "teacher"
    details: Mapping[str, Any] = field(default_factory=dict)
    networks: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], where: str = METRICS_FILE) -> "RunMetrics":
        missing = [key for key in ("psds1", "psds2", "event_f1", "intersection_f1", "checkpoint") if key not in values]
        if missing:
            raise ValueError(f"{where}: missing key(s) {missing} (not written by tbfl train?)")
        return cls(
            psds1=float(values["psds1"]),
            psds2=float(values["psds2"]),
            event_f1=float(values["event_f1"]),
            intersection_f1=float(values["intersection_f1"]),
            checkpoint=str(values["checkpoint"]),
            eval_model=str(values.get("eval_model", "teacher")),
            details=values.get("details", {}),
            networks=values.get("networks", {}),
            training=values.get("training", {}),
            raw=dict(values),
        )

    def value(self, metric: str) -> float:
        """A top-level number of metrics.json by name (e.g. ``psds1``, ``event_f1_best``)."""
        if metric not in self.raw:
            raise KeyError(f"{METRICS_FILE}: no metric {metric!r}")
        return float(self.raw[metric])

    def per_class(self, metric: str) -> dict[str, float]:
        """Per-class values of ``psds1``/``psds2``, or the per-class F1 of ``event_f1_best``/``event_f1``/``event_f1_synth_threshold``/``intersection_f1``."""
        if metric in ("psds1", "psds2"):
            return dict(self.details[metric]["per_class"])
        if metric in ("event_f1_best", "event_f1", "event_f1_synth_threshold", "intersection_f1"):
            return {name: values["f1"] for name, values in self.details[metric]["per_class"].items()}
        raise KeyError(f"no per-class values for {metric!r}")


def read_metrics(path: str | Path) -> RunMetrics:
    """Parse a run's metrics.json; a damaged file is a ValueError naming it."""
    path = Path(path)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: invalid JSON ({error.msg})") from None
    return RunMetrics.from_dict(values, where=str(path))


def read_learning_curve(path: str | Path):
    """learning_curve.csv as a DataFrame (columns epoch, step, {student,teacher}_{objective,weak_f1,
    synth_intersection_f1}, monitor), one row per validation."""
    import pandas as pd

    return pd.read_csv(path)


def check_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint file on the CPU; a truncated or corrupt one is a CheckpointError that says what to do."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: model checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises RuntimeError, EOFError, UnpicklingError, ... for a damaged file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(
            f"{path}: damaged checkpoint ({reason}); use a best-*.ckpt of the same run folder, or start a fresh run (new --out)"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path}: not a tbfl checkpoint (no state_dict); use a best-*.ckpt of a run folder, or start a fresh run")
    return checkpoint
