"""The study's run model: runs, configurations, the metric vocabulary, the grid's names.

A run folder (from ``tbfl train`` or ``tbfl sweep``) is named by :func:`run_name` after its loss settings,
plus ``_s<seed>``; runs that differ only in the seed form one :class:`Configuration`. The report, the
comparisons and the views read runs through this module; the sweep names its folders with it.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from tbfl.io import read_yaml
from tbfl.run_folder import CONFIG_FILE, METRICS_FILE, RunFolder, RunMetrics

SEED_SUFFIX = re.compile(r"_s(\d+)$")
HEADLINE_METRICS = ("psds1", "psds2", "event_f1_best", "event_f1", "intersection_f1")
METRIC_LABELS = {
    "psds1": "PSDS1",
    "psds2": "PSDS2",
    "event_f1_best": "event-F1 (best thr.)",
    "event_f1": "event-F1 @0.5",
    "intersection_f1": "intersection-F1",
}
SHORT_EVENT_S = 2.0  # classes whose mean event duration is below this are "short"


def _number(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, str) and value.lower() in ("inf", "infinity"):
        return "inf"
    if isinstance(value, str) and value.lower() == "auto":
        return "auto"
    return f"{float(value):g}"


def run_name(overrides: Mapping[str, Any]) -> str:
    """Folder name for a configuration, e.g. ``bce``, ``focal_g2``, ``tbfl_k1000_g2``, ``tbfl-uniform_g2`` (no seed).

    A run whose entry sets ``data.root`` is prefixed by that folder's name (``d1v1s0.25-201-bce``), so one
    grid can train on several datasets. Losses without a naming rule here are named by ``loss.name`` alone.
    """
    root = overrides.get("data.root")
    name = _loss_name(overrides)
    return name if root is None else f"{Path(str(root)).name}-{name}"


def _loss_name(overrides: Mapping[str, Any]) -> str:
    loss = overrides.get("loss.name", "bce")
    if loss == "bce":
        return "bce"
    gamma = f"g{_number(overrides.get('loss.gamma', 2.0))}"
    if loss == "focal":
        alpha = overrides.get("loss.alpha")
        return f"focal_{gamma}" + ("" if alpha is None else f"_a{_number(alpha)}")
    if loss == "cbfl":
        return f"cbfl_b{_number(overrides.get('loss.beta', 0.999))}_{gamma}"
    if loss != "tbfl":
        return str(loss)
    if overrides.get("loss.uniform_weights"):
        return f"tbfl-uniform_{gamma}"
    k = _number(overrides.get("loss.k", 1000))
    if k == "auto" and float(overrides.get("loss.k_auto_target", 1.0)) != 1.0:
        k += _number(overrides["loss.k_auto_target"])  # e.g. tbfl_kauto0.5_g2
    if k.startswith("auto") and overrides.get("loss.k_auto_rule", "median") != "median":
        k += f"-{overrides['loss.k_auto_rule']}"  # e.g. tbfl_kauto-geomean_g2
    return f"tbfl_k{k}_{gamma}"


#: Letter that prefixes each setting in a run name (``tbfl_k1000_g2``: k = 1000, gamma = 2).
_NAME_LETTERS = {"loss.k": "k", "loss.gamma": "g", "loss.beta": "b", "loss.alpha": "a"}


@dataclass(frozen=True)
class Sweep:
    """One axis of the grid: ``swept`` takes any value while the other loss settings are ``fixed`` (run_name overrides)."""

    swept: str
    fixed: tuple[tuple[str, Any], ...]

    def value(self, name: str) -> str | None:
        """The swept value as the name spells it (``"1000"``, ``"inf"``) when ``name`` is a point of this sweep, else None
        (``k: auto`` is no point of the k sweep: a sweep is over numbers)."""
        letter = _NAME_LETTERS[self.swept]
        for token in name.split("_")[1:]:
            if token.startswith(letter):
                try:
                    named = run_name({**dict(self.fixed), self.swept: token[1:]})
                except ValueError:
                    return None
                return token[1:] if named == name and swept_number(token[1:]) is not None else None
        return None

    def points(self, configurations: Mapping[str, "Configuration"]) -> list[tuple[str, "Configuration"]]:
        """(value, configuration) of the points that ran, sorted numerically ('inf' last)."""
        found = [(value, config) for name, config in configurations.items() if (value := self.value(name)) is not None]
        return sorted(found, key=lambda item: float(item[0]))


def swept_number(value: str) -> float | None:
    """A swept value as named (``"1000"``, ``"inf"``) as a number; None for a word such as ``auto``."""
    try:
        return float(value)
    except ValueError:
        return None


#: The configurations the report names, by their loss settings.
BCE = run_name({"loss.name": "bce"})
FOCAL = run_name({"loss.name": "focal", "loss.gamma": 2})
TBFL_UNIFORM = run_name({"loss.name": "tbfl", "loss.uniform_weights": True, "loss.gamma": 2})
DEFAULT_TBFL = run_name({"loss.name": "tbfl", "loss.k": 1000, "loss.gamma": 2})
TBFL_KINF = run_name({"loss.name": "tbfl", "loss.k": math.inf, "loss.gamma": 2})
#: The TBFL configuration whose weights follow the paper's Table 1 pattern on the `small` preset (k = 250 there
#: puts floor(k r_c) / V_c where the paper's k = 1000 put it on DESED); compared beside the report's TBFL.
PAPER_PATTERN_TBFL = run_name({"loss.name": "tbfl", "loss.k": 250, "loss.gamma": 2})
#: The class-balanced focal loss of the grid (eq. 3: Cui et al.'s weights from the volumes V_c alone).
CBFL = run_name({"loss.name": "cbfl", "loss.beta": 0.999, "loss.gamma": 2})
#: The k sweep at gamma = 2 and the gamma sweep at k = 1000.
K_SWEEP = Sweep("loss.k", (("loss.name", "tbfl"), ("loss.gamma", 2)))
GAMMA_SWEEP = Sweep("loss.gamma", (("loss.name", "tbfl"), ("loss.k", 1000)))


@dataclass
class Run:
    """One finished training run."""

    name: str
    config: str
    seed: int
    metrics: RunMetrics
    weights: dict
    run_dir: Path

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.run_dir)

    @property
    def dataset(self) -> str:
        """The folder name of the dataset the run trained on (its config's ``data.root``)."""
        return Path(str(read_yaml(self.folder.config, "run config")["data"]["root"])).name

    def per_class(self, metric: str) -> dict[str, float]:
        """Per-class values of ``psds1``/``psds2`` or of the event-F1 at the best threshold."""
        return self.metrics.per_class(metric)


@dataclass
class Configuration:
    """Runs of one configuration (all seeds)."""

    name: str
    runs: list[Run] = field(default_factory=list)

    def values(self, metric: str) -> np.ndarray:
        return np.array([run.metrics.value(metric) for run in self.runs], dtype=float)

    def per_class(self, metric: str, classes: Sequence[str]) -> np.ndarray:
        """(n_seeds, C) per-class values."""
        return np.array([[run.per_class(metric)[c] for c in classes] for run in self.runs], dtype=float)

    def by_seed(self) -> dict[int, Run]:
        return {run.seed: run for run in self.runs}


def natural_order(name: str) -> list[tuple[int, float, str]]:
    """Sort key that reads the numbers in a name as numbers: tbfl_k10_g2 < tbfl_k100_g2 < tbfl_k1000_g0.5 < tbfl_kinf_g2, _s2 < _s10."""
    return [(0, float(token), "") if index % 2 else (1, 0.0, token)
            for index, token in enumerate(re.split(r"(\d+(?:\.\d+)?)", name)) if token]


def load_runs(runs_dir: str | Path) -> dict[str, Configuration]:
    """Finished runs under ``runs_dir`` grouped by configuration, in :func:`natural_order` of their names; a warning
    names the run folders (with a config.yaml) that have not finished."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"{runs_dir}: runs folder not found")
    configurations: dict[str, Configuration] = {}
    for metrics_file in sorted(runs_dir.glob(f"*/{METRICS_FILE}"), key=lambda path: natural_order(path.parent.name)):
        run_dir = metrics_file.parent
        folder = RunFolder(run_dir)
        match = SEED_SUFFIX.search(run_dir.name)
        config = run_dir.name[: match.start()] if match else run_dir.name
        seed = int(match.group(1)) if match else 0
        run = Run(run_dir.name, config, seed, folder.read_metrics(), folder.read_class_weights(), run_dir)
        configurations.setdefault(config, Configuration(config)).runs.append(run)
    unfinished = sorted((p.parent.name for p in runs_dir.glob(f"*/{CONFIG_FILE}") if not (p.parent / METRICS_FILE).is_file()),
                        key=natural_order)
    if not configurations:
        raise ValueError(f"{runs_dir}: no finished run (no */metrics.json)" + (f"; unfinished: {', '.join(unfinished)}" if unfinished else ""))
    if unfinished:
        warnings.warn(f"{runs_dir}: {len(unfinished)} unfinished run(s) left out of the report (no metrics.json): "
                      f"{', '.join(unfinished)}", UserWarning, stacklevel=2)
    return configurations


def mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and sample std (n - 1; 0 for one value) of a metric over seeds, NaN ignored."""
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)), float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0


def format_mean_std(values: np.ndarray) -> str:
    """``"0.123 ± 0.004"`` over seeds (the mean alone for one seed)."""
    mean, std = mean_std(values)
    return f"{mean:.3f} ± {std:.3f}" if len(values) > 1 else f"{mean:.3f}"


def summary_table(configurations: dict[str, Configuration]) -> pd.DataFrame:
    """One row per configuration: seeds and mean/std of every headline metric."""
    rows = []
    for name, config in configurations.items():
        row: dict = {"configuration": name, "seeds": len(config.runs)}
        for metric in HEADLINE_METRICS:
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean_std(config.values(metric))
        rows.append(row)
    return pd.DataFrame(rows)


def runs_table(configurations: dict[str, Configuration]) -> pd.DataFrame:
    """One row per run: its dataset (the folder name of the config's ``data.root``), configuration, seed, how
    training ended, and the headline metrics."""
    rows = []
    for name, config in configurations.items():
        for run in sorted(config.runs, key=lambda r: r.seed):
            ending = run.metrics.training
            row = {"run": run.name, "dataset": run.dataset, "configuration": name, "seed": run.seed}
            row.update({key: ending.get(key) for key in ("epochs_trained", "best_epoch", "stop_reason")})
            row.update({metric: run.metrics.value(metric) for metric in HEADLINE_METRICS})
            rows.append(row)
    return pd.DataFrame(rows)
