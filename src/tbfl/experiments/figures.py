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


def figure_sweeps(panels: Sequence[dict], out_png: str | Path) -> Path:
    """Fig. 2: one panel per sweep; each dict holds the keyword arguments of :func:`plot_sweep`."""
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        plot_sweep(ax=ax, **panel)
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
