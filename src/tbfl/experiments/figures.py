"""The paper's figures (2-5) drawn from plain arrays with matplotlib (Agg, PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tbfl.io import atomic_path  # noqa: E402

COLORS = {"BCE": "#555555", "TBFL": "#d62728", "focal (w_c = 1)": "#1f77b4"}
#: Colours of the other configurations, none of them one of COLORS'.
OTHER_COLORS = ("#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
REFERENCE_STYLES = ("--", ":", "-.")


def _save(figure: plt.Figure, out_png: str | Path) -> Path:
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp:
        figure.savefig(tmp, dpi=130, bbox_inches="tight")
    plt.close(figure)
    return out_png


def plot_sweep(
    axis_label: str,
    values: Sequence[str],
    means: Sequence[float],
    stds: Sequence[float],
    references: Mapping[str, tuple[float, float]],
    *,
    ylabel: str,
    title: str,
    ax: plt.Axes,
) -> None:
    """One panel of Fig. 2: a metric (mean ± std over seeds) against a hyper-parameter, with reference lines."""
    x = np.arange(len(values))
    ax.errorbar(x, means, yerr=stds, marker="o", color=COLORS["TBFL"], capsize=4, label="TBFL")
    for (name, (mean, std)), style in zip(references.items(), REFERENCE_STYLES):
        color = COLORS.get(name, "black")
        ax.axhline(mean, color=color, linestyle=style, label=f"{name} ({mean:.3f})")
        ax.axhspan(mean - std, mean + std, color=color, alpha=0.12)
    ax.set_xticks(x, values)
    ax.set_xlabel(axis_label)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def figure_sweeps(rows: Sequence[Sequence[dict]], out_png: str | Path) -> Path:
    """Fig. 2: one row of panels per metric, one panel per sweep; each dict holds the keyword arguments of :func:`plot_sweep`."""
    n_columns = max(len(row) for row in rows)
    figure, axes = plt.subplots(len(rows), n_columns, figsize=(5.5 * n_columns, 4 * len(rows)), squeeze=False)
    for axes_row, row in zip(axes, rows):
        for ax, panel in zip(axes_row, row):
            plot_sweep(ax=ax, **panel)
        for ax in axes_row[len(row):]:
            ax.set_visible(False)
    figure.tight_layout()
    return _save(figure, out_png)


def figure_classwise(classes: Sequence[str], series: Mapping[str, tuple[np.ndarray, np.ndarray]], *, ylabel: str, title: str, out_png: str | Path) -> Path:
    """Fig. 3: per-class bars (mean ± std over seeds), one bar per system."""
    figure, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(classes))
    for offset, (name, (mean, std)) in enumerate(series.items()):
        ax.bar(x + (offset - (len(series) - 1) / 2) * width, mean, width, yerr=std, capsize=3, label=name, color=COLORS.get(name))
    ax.set_xticks(x, [c.replace("_", " ") for c in classes], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    figure.tight_layout()
    return _save(figure, out_png)


def figure_relative(
    classes: Sequence[str],
    ratios: Mapping[str, tuple[np.ndarray, np.ndarray]],
    orderings: Mapping[str, np.ndarray],
    out_png: str | Path,
) -> Path:
    """Fig. 4: per-class TBFL/BCE ratios (mean ± std band), classes sorted by each ordering key.

    ``ratios``: metric name -> (mean (C,), std (C,)); ``orderings``: label -> (C,) values to sort by (ascending).
    """
    figure, axes = plt.subplots(len(orderings), len(ratios), figsize=(5.5 * len(ratios), 3.6 * len(orderings)), squeeze=False)
    for row, (order_label, key) in enumerate(orderings.items()):
        order = np.argsort(np.asarray(key), kind="stable")
        for col, (metric, (mean, std)) in enumerate(ratios.items()):
            ax = axes[row][col]
            x = np.arange(len(classes))
            ax.fill_between(x, (mean - std)[order], (mean + std)[order], color="0.8", label="± std over seeds")
            ax.plot(x, mean[order], "o", color=COLORS["TBFL"], label="mean")
            ax.axhline(1.0, color="black", linewidth=0.8)
            ax.set_yscale("log")  # ratios: 2x and 0.5x equally far from 1
            ax.set_xticks(x, [f"{classes[i].split('_')[0]}\n{key[i]:.3g}" for i in order], fontsize=7)
            ax.set_xlabel(f"classes sorted by {order_label}")
            ax.set_ylabel(f"{metric} TBFL / BCE")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    figure.tight_layout()
    return _save(figure, out_png)


def figure_logit_histograms(
    classes: Sequence[str], logits: Mapping[str, Sequence[np.ndarray]], out_png: str | Path, *, bins: int = 40
) -> Path:
    """Fig. 5: per-class histograms of frame logits on clips tagged with the class, one outline per system.

    ``logits``: system name -> per class, a 1-D array of frame logits.
    """
    columns = 5
    rows = int(np.ceil(len(classes) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    all_values = np.concatenate([np.ravel(v) for per_class in logits.values() for v in per_class if np.size(v)] or [np.zeros(1)])
    low, high = np.percentile(all_values, [0.5, 99.5])
    edges = np.linspace(low, high, bins + 1)
    for index, name in enumerate(classes):
        ax = axes[index // columns][index % columns]
        if not any(np.size(per_class[index]) for per_class in logits.values()):
            ax.text(0.5, 0.5, "no weak-validation\nclip of this class", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        for system, per_class in logits.items():
            values = np.clip(np.ravel(per_class[index]), low, high)
            ax.hist(values, bins=edges, histtype="step", linewidth=1.4, color=COLORS.get(system), label=f"{system} ({values.size} frames)")
        ax.axvline(0.0, color="black", linewidth=0.6)
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.set_xlabel("frame logit", fontsize=8)
        ax.set_ylabel("frames", fontsize=8)
        ax.legend(fontsize=6)
    for index in range(len(classes), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.tight_layout()
    return _save(figure, out_png)


def figure_learning_curves(curves: Mapping[str, Sequence[np.ndarray]], out_png: str | Path, *, unit: str = "seed") -> Path:
    """Validation objective per epoch, student and teacher: mean and min..max band over runs.

    Args:
        curves: configuration -> one (n_epochs, 2) array per run (student, teacher objective).
        unit: what the runs of a configuration differ by, for the legend ("seed"; "run" where datasets differ too).
    """
    figure, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, column, network in zip(axes, (0, 1), ("student", "teacher")):
        for index, (name, runs) in enumerate(curves.items()):
            color = COLORS.get(name, OTHER_COLORS[index % len(OTHER_COLORS)])
            length = max(len(run) for run in runs)
            padded = np.full((len(runs), length), np.nan)  # runs stop at different epochs
            for row, run in zip(padded, runs):
                row[: len(run)] = run[:, column]
            epochs = np.arange(1, length + 1)
            with np.errstate(all="ignore"):
                mean = np.nanmean(padded, axis=0)
            ax.plot(epochs, mean, color=color, label=f"{name} ({len(runs)} {unit}{'' if len(runs) == 1 else 's'})")
            ax.fill_between(epochs, np.nanmin(padded, axis=0), np.nanmax(padded, axis=0), color=color, alpha=0.15)
            for run in runs:  # where each seed stopped
                ax.plot(len(run), run[-1, column], marker="|", color=color, markersize=8)
        ax.set_xlabel("epoch")
        ax.set_title(network)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation objective\n(weak F1 + synthetic intersection-F1)")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    return _save(figure, out_png)


def figure_psd_roc(curves: Mapping[str, Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]]], out_png: str | Path) -> Path:
    """PSD-ROC curves (eTPR against eFPR per hour), one panel per scenario, one line per run.

    Args:
        curves: scenario title -> configuration -> one (efpr, etpr) pair per seed.
    """
    figure, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.2), squeeze=False)
    for ax, (title, by_config) in zip(axes[0], curves.items()):
        for index, (name, runs) in enumerate(by_config.items()):
            color = COLORS.get(name, OTHER_COLORS[index % len(OTHER_COLORS)])
            for number, (efpr, etpr) in enumerate(runs):
                ax.step(efpr, etpr, where="post", color=color, alpha=0.75, linewidth=1.2, label=f"{name} ({len(runs)} seed{'' if len(runs) == 1 else 's'})" if number == 0 else None)
        ax.set_xlabel("eFPR (per hour)")
        ax.set_ylabel("eTPR")
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return _save(figure, out_png)


def figure_event_rolls(clips: Sequence[dict], classes: Sequence[str], out_png: str | Path) -> Path:
    """One column per clip: log-mel, ground truth, then each system's frame probabilities with the truth outlined
    in red and the system's detected events as black bars.

    Args:
        clips: dicts with ``name``, ``log_mel`` (n_mels, n_in_frames), ``duration_s``, ``events``
            [(onset_s, offset_s, class index)], ``scores`` {system: (C, n_frames) probabilities},
            ``detections`` {system: [(onset_s, offset_s, class index)]}, ``frame_hop_s``.
    """
    systems = list(clips[0]["scores"])
    n_rows = 2 + len(systems)
    figure, axes = plt.subplots(n_rows, len(clips), figsize=(5.2 * len(clips), 1.9 * n_rows), squeeze=False, sharex="col")
    for column, clip in enumerate(clips):
        duration_s = clip["duration_s"]
        axes[0, column].imshow(clip["log_mel"], origin="lower", aspect="auto", extent=(0, duration_s, 0, clip["log_mel"].shape[0]), cmap="magma")
        axes[0, column].set_title(clip["name"], fontsize=9)
        axes[0, column].set_ylabel("mel band" if column == 0 else "")
        rows = [("ground truth", None)] + [(system, clip["scores"][system]) for system in systems]
        for row, (label, scores) in enumerate(rows, start=1):
            ax = axes[row, column]
            if scores is None:
                scores = np.zeros((len(classes), 1))
            n_frames = scores.shape[1]
            ax.imshow(scores, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="Blues", extent=(0, n_frames * clip["frame_hop_s"], -0.5, len(classes) - 0.5))
            for onset_s, offset_s, index in clip["events"]:
                ax.add_patch(plt.Rectangle((onset_s, index - 0.4), offset_s - onset_s, 0.8, fill=label == "ground truth", alpha=0.9 if label == "ground truth" else 1,
                                           facecolor="#d62728", edgecolor="#d62728", linewidth=1.2))
            for onset_s, offset_s, index in clip["detections"].get(label, []):
                ax.add_patch(plt.Rectangle((onset_s, index - 0.12), offset_s - onset_s, 0.24, facecolor="black", edgecolor="none"))
            ax.set_yticks(range(len(classes)), classes if column == 0 else [""] * len(classes), fontsize=6)
            ax.set_xlim(0, duration_s)
            if column == 0:
                ax.set_ylabel(label, fontsize=9)
        axes[-1, column].set_xlabel("time (s)")
    figure.tight_layout()
    return _save(figure, out_png)


def plot_gain_against_level(gains: Mapping[str, Mapping[int, Sequence[float]]], *, ylabel: str, out_png: str | Path) -> Path:
    """Study 2's Fig.: one panel per imbalance axis (``gains[axis][level]``: per-dataset gains at that spread level),
    each dataset a dot, each level's mean with its 95% t-interval (where it has 2 or more datasets)."""
    from scipy import stats

    figure, axes = plt.subplots(1, len(gains), figsize=(4.2 * len(gains), 3.4), squeeze=False, sharey=True)
    for ax, (axis, by_level) in zip(axes[0], gains.items()):
        for level, values in sorted(by_level.items()):
            values = np.asarray(values, dtype=float)
            ax.scatter(np.full(len(values), level) + np.linspace(-0.06, 0.06, len(values)), values, color="#999999", s=14, zorder=2)
            if len(values) >= 2:
                half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
                ax.errorbar(level, values.mean(), yerr=half, fmt="o", color=COLORS["TBFL"], capsize=4, zorder=3)
            elif len(values):
                ax.plot(level, values.mean(), "o", color=COLORS["TBFL"], zorder=3)
        ax.axhline(0, color="#555555", linewidth=0.8)
        ax.set_xticks([0, 1, 2], ["flat (0)", "paper (1)", "wide (2)"])
        ax.set_xlabel(f"{axis} spread")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    return _save(figure, out_png)
