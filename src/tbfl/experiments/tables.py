"""Tables over the study's runs: Table 1 of a run's dataset, per-class ratios and logits, endings, curves."""

from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from tbfl.data.table1 import PAPER_AVG_EVENT_DURATION_S, PAPER_AVG_SOURCE_LENGTH_S, PAPER_TABLE1
from tbfl.experiments.runs import HEADLINE_METRICS, METRIC_LABELS, SHORT_EVENT_S, Configuration, Run, format_mean_std
from tbfl.run_folder import read_learning_curve


def dataset_table(run: Run) -> pd.DataFrame:
    """Table 1 measured on the run's dataset, next to the paper's."""
    if "statistics" not in run.weights:
        raise ValueError(f"{run.folder.class_weights}: missing or without 'statistics' (not written by tbfl train?)")
    stats = run.weights["statistics"]
    classes = stats["classes"]
    table = pd.DataFrame(
        {
            "class": classes,
            "V_c": stats["volumes"],
            "avg_source_length_s": stats["avg_source_length_s"],
            "r_c": stats["frame_ratios"],
            "avg_event_duration_s": stats["avg_event_duration_s"],
        }
    )
    if list(classes) == list(PAPER_TABLE1.classes):
        table["paper_V_c"] = PAPER_TABLE1.volumes
        table["paper_avg_source_length_s"] = PAPER_AVG_SOURCE_LENGTH_S
        table["paper_r_c"] = PAPER_TABLE1.frame_ratios
        table["paper_avg_event_duration_s"] = PAPER_AVG_EVENT_DURATION_S
    return table


def relative_per_class(tbfl: Configuration, bce: Configuration, metric: str, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-class TBFL / BCE ratio, mean and sample std over seeds run by both (NaN where BCE is 0)."""
    tbfl_runs, bce_runs = tbfl.by_seed(), bce.by_seed()
    seeds = sorted(set(tbfl_runs) & set(bce_runs)) or None
    if seeds is None:  # no common seed: compare means
        numerator, denominator = tbfl.per_class(metric, classes).mean(0, keepdims=True), bce.per_class(metric, classes).mean(0, keepdims=True)
    else:
        numerator = np.array([[tbfl_runs[s].per_class(metric)[c] for c in classes] for s in seeds])
        denominator = np.array([[bce_runs[s].per_class(metric)[c] for c in classes] for s in seeds])
    ratio = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=ratio, where=denominator > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a class with BCE = 0 in every seed stays NaN
        mean = np.nanmean(ratio, axis=0)
        std = np.nanstd(ratio, axis=0, ddof=1) if ratio.shape[0] > 1 else np.zeros(len(classes))
    return mean, std


def class_logits(config: Configuration, classes: Sequence[str]) -> list[np.ndarray]:
    """Per class, the frame logits of weak-validation clips tagged with the class (all seeds pooled)."""
    pooled: list[list[np.ndarray]] = [[] for _ in classes]
    for run in config.runs:
        path = run.folder.weak_logits
        if not path.is_file():
            continue
        with np.load(path, allow_pickle=False) as data:
            logits, targets = data["logits"], data["weak_targets"]
        for index in range(len(classes)):
            tagged = targets[:, index] > 0.5
            pooled[index].append(logits[tagged, index, :].ravel())
    return [np.concatenate(parts) if parts else np.zeros(0) for parts in pooled]


def logit_summary(logits: Mapping[str, Sequence[np.ndarray]], classes: Sequence[str], event_duration_s: Sequence[float]) -> pd.DataFrame:
    """Per class (rows sorted by mean event duration): each system's median frame logit and share of positive logits.

    ``logits``: system -> per class, a 1-D array of frame logits (:func:`class_logits`).
    """
    table = pd.DataFrame({"class": list(classes), "avg_event_duration_s": np.asarray(event_duration_s, dtype=float)})
    for system, per_class in logits.items():
        table[f"{system} median logit"] = [float(np.median(v)) if v.size else math.nan for v in per_class]
        table[f"{system} logit > 0"] = [float(np.mean(v > 0)) if v.size else math.nan for v in per_class]
    return table.sort_values("avg_event_duration_s", kind="stable").reset_index(drop=True)


def comparison_table(configurations: dict[str, Configuration], classes: Sequence[str], event_duration_s: Sequence[float]) -> str:
    """Text table: headline metrics, per-class event-F1, and short vs long classes, one column per configuration."""
    names = list(configurations)
    width = max(12, *(len(n) for n in names)) + 2
    lines = [f"{'':<28}" + "".join(f"{n:>{width}}" for n in names)]
    for metric in HEADLINE_METRICS:
        lines.append(f"{METRIC_LABELS[metric]:<28}" + "".join(f"{format_mean_std(configurations[n].values(metric)):>{width}}" for n in names))
    lines.append(f"{'-- event-F1 per class':<28}")
    per_class = {n: configurations[n].per_class("event_f1_best", classes) for n in names}
    for index, name in enumerate(classes):
        label = f"{name[:20]} ({event_duration_s[index]:.1f} s)"
        lines.append(f"{label:<28}" + "".join(f"{format_mean_std(per_class[n][:, index]):>{width}}" for n in names))
    short = np.asarray(event_duration_s) < SHORT_EVENT_S
    for group, mask in ((f"short events (< {SHORT_EVENT_S:g} s)", short), (f"long events (>= {SHORT_EVENT_S:g} s)", ~short)):
        if mask.any():
            lines.append(f"{group:<28}" + "".join(f"{format_mean_std(per_class[n][:, mask].mean(1)):>{width}}" for n in names))
    return "\n".join(lines)


def longest_wait(monitor: np.ndarray) -> int:
    """The most epochs a curve waited between two improvements of its best value (before its final best)."""
    improved = np.flatnonzero(np.diff(np.maximum.accumulate(monitor), prepend=-np.inf) > 0)
    return int(np.diff(improved).max()) if len(improved) > 1 else 0


def endings_table(configurations: dict[str, Configuration]) -> pd.DataFrame:
    """Per configuration: seeds, epochs trained, best epoch, the longest wait between improvements (min-max), stop reasons.

    The longest wait is what the plateau rule's patience must exceed: a wait as long as the patience
    would have stopped the run before a better checkpoint.
    """
    def span(values: list) -> str:
        return f"{min(values)}-{max(values)}" if values else "n/a"

    rows = []
    for name, config in configurations.items():
        endings = [run.metrics.training for run in config.runs]
        waits = [longest_wait(read_learning_curve(run.folder.learning_curve)["monitor"].to_numpy())
                 for run in config.runs if run.folder.learning_curve.is_file()]
        reasons = pd.Series([e.get("stop_reason", "unknown") for e in endings]).value_counts()
        rows.append({
            "configuration": name, "seeds": len(config.runs),
            "epochs trained": span([e["epochs_trained"] for e in endings if e.get("epochs_trained") is not None]),
            "best epoch": span([e["best_epoch"] for e in endings if e.get("best_epoch") is not None]),
            "longest wait for an improvement (epochs)": span(waits),
            "stopped by": ", ".join(f"{reason} x{count}" for reason, count in reasons.items()),
        })
    return pd.DataFrame(rows)


def learning_curves(config: Configuration) -> list[np.ndarray]:
    """One (n_epochs, 2) array per run: student and teacher validation objective (runs without a curve are skipped)."""
    curves = []
    for run in sorted(config.runs, key=lambda r: r.seed):
        if run.folder.learning_curve.is_file():
            curves.append(read_learning_curve(run.folder.learning_curve)[["student_objective", "teacher_objective"]].to_numpy())
    return curves


def paper_equivalent_k(table1: pd.DataFrame, k_values: Sequence[float]) -> pd.DataFrame:
    """Each k next to the k that gives the same floor(k r_c) / V_c on the paper's DESED (V_c scale ratio, median over classes)."""
    if "paper_V_c" not in table1:
        return pd.DataFrame()
    scale = float(np.median(np.asarray(table1["paper_V_c"], float) / np.asarray(table1["V_c"], float)))
    return pd.DataFrame({"k (this dataset)": [f"{k:g}" for k in k_values], "paper-equivalent k (x%.2f)" % scale: [f"{k * scale:g}" for k in k_values]})
