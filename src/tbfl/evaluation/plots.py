"""Figures of one evaluation (PNG, Agg): PSD-ROC overall and per class, event F1 against threshold per class."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tbfl.evaluation.result import EvaluationResult  # noqa: E402
from tbfl.io import atomic_path  # noqa: E402


def write_plots(result: EvaluationResult, directory: str | Path) -> list[Path]:
    """Write ``psd_roc.png``, ``psd_roc_per_class.png`` and ``event_f1_vs_threshold.png``; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / name for name in ("psd_roc.png", "psd_roc_per_class.png", "event_f1_vs_threshold.png")]
    for path, draw in zip(paths, (_overall, _per_class, _f1_sweep)):
        figure = draw(result)
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=120)
        plt.close(figure)
    return paths


def _to_max(efpr, tpr, max_efpr):
    """The staircase extended to ``max_efpr`` (its area is the PSDS)."""
    return list(efpr) + [max_efpr], list(tpr) + [tpr[-1]]


def _overall(result: EvaluationResult):
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, name, psds in ((axes[0], "PSDS1", result.psds1_threshold_free), (axes[1], "PSDS2", result.psds2_threshold_free)):
        max_efpr = (result.settings.psds1 if name == "PSDS1" else result.settings.psds2).max_efpr
        ax.step(*_to_max(psds.efpr, psds.etpr, max_efpr), where="post", label=f"threshold-free: {psds.value:.3f}")
        fixed = result.psds1 if name == "PSDS1" else result.psds2
        ax.step(*_to_max(fixed.efpr, fixed.etpr, max_efpr), where="post", linestyle="--", label=f"{len(result.settings.thresholds)} thresholds: {fixed.value:.3f}")
        ax.set(title=f"{name} PSD-ROC", xlabel="eFPR (per hour)", xlim=(0, None), ylim=(0, 1))
        ax.legend(loc="lower right")
    axes[0].set_ylabel("effective TPR")
    figure.tight_layout()
    return figure


def _grid(n: int):
    columns = min(n, 5)
    rows = -(-n // columns)
    return plt.subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows), sharex=True, sharey=True, squeeze=False)


def _finish_grid(figure, axes, n_panels: int, xlabel: str, ylabel: str, title: str):
    """Hide the unused panels, label the outer axes, title the figure."""
    for ax in axes.flat[n_panels:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def _per_class(result: EvaluationResult):
    classes = result.settings.classes
    figure, axes = _grid(len(classes))
    for c, (ax, name) in enumerate(zip(axes.flat, classes)):
        for label, psds, max_efpr in (("PSDS1", result.psds1_threshold_free, result.settings.psds1.max_efpr),
                                      ("PSDS2", result.psds2_threshold_free, result.settings.psds2.max_efpr)):
            efpr, tpr = psds.class_rocs[c]
            ax.step(*_to_max(efpr, tpr, max_efpr), where="post", label=f"{label} {psds.per_class[c]:.2f}")
        ax.set_title(name, fontsize=9)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, loc="lower right")
    return _finish_grid(figure, axes, len(classes), "eFPR (per hour)", "TPR",
                        "PSD-ROC per class (threshold-free; PSDS2 adds cross-triggers)")


def _f1_sweep(result: EvaluationResult):
    sweep, classes = result.event_f1_sweep, result.settings.classes
    figure, axes = _grid(len(classes))
    best, f1 = result.event_f1_best_per_class, sweep.f1()
    for c, (ax, name) in enumerate(zip(axes.flat, classes)):
        ax.plot(sweep.thresholds, f1[:, c], marker=".", markersize=3)
        ax.axvline(best.thresholds[c], color="grey", linestyle=":", linewidth=1)
        ax.set_title(f"{name}: best {best.f1[c]:.2f} at {best.thresholds[c]:.2f}", fontsize=9)
        ax.set_ylim(0, 1)
    return _finish_grid(figure, axes, len(classes), "threshold", "event F1",
                        "Event-based F1 (collars) against the decision threshold, per class")
