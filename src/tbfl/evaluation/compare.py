"""Several systems on one evaluation set: one row per system, and paired bootstrap intervals of their differences.

Every system is evaluated with the same settings on the same clips (the
ground truth and durations are read once). With ``bootstrap`` resamples, each
system's metrics are computed on the *same* resampled clip sets (the draws
depend only on the clips and the seed), so the difference of two systems on
one resample is a paired difference: its 2.5 and 97.5 percentiles over the
resamples give the interval of the difference, narrower than two separate
intervals would suggest when the systems err on the same clips.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tbfl.evaluation.bootstrap import confidence_interval
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.inputs import read_evaluation_files
from tbfl.evaluation.result import EvaluationResult
from tbfl.evaluation.scores import median_frame_hop_s, read_any_scores

#: The columns of the comparison table: (key of ``EvaluationResult.to_dict()``, header).
COLUMNS = (("psds1", "PSDS1"), ("psds2", "PSDS2"), ("psds1_threshold_free", "PSDS1 tf"), ("psds2_threshold_free", "PSDS2 tf"),
           ("event_f1", "event F1"), ("intersection_f1", "inter F1"), ("collar_error_rate", "event ER"),
           ("clip_f1", "clip F1"), ("clip_auroc", "clip AUC"), ("segment_f1", "seg F1"), ("segment_auroc", "seg AUC"),
           ("pipsds1", "piPSDS1"), ("pipsds2", "piPSDS2"))


@dataclass(frozen=True)
class Comparison:
    """Results of several systems (``names`` in order) and, with a bootstrap, the paired differences of each
    system to the first: ``differences[name][metric] = (mean, 2.5 %, 97.5 %)`` of (system - first)."""

    names: tuple[str, ...]
    results: tuple[EvaluationResult, ...]
    differences: dict[str, dict[str, tuple[float, float, float]]]

    @classmethod
    def of(cls, names, results) -> "Comparison":
        baseline = results[0].resampled_values
        differences = {
            name: {metric: confidence_interval(values - baseline[metric])
                   for metric, values in result.resampled_values.items() if metric in baseline}
            for name, result in zip(names[1:], results[1:]) if baseline
        }
        return cls(tuple(names), tuple(results), differences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "systems": {name: result.to_dict() for name, result in zip(self.names, self.results)},
            **({"differences_to": self.names[0], "differences": {
                name: {metric: {"mean": _finite(m), "low": _finite(lo), "high": _finite(hi)}
                       for metric, (m, lo, hi) in values.items()}
                for name, values in self.differences.items()}} if self.differences else {}),
        }

    def format_table(self) -> str:
        """One row per system (macro values), then one row of paired 95 % intervals per system after the first."""
        rows = [result.to_dict() for result in self.results]
        columns = [(key, header) for key, header in COLUMNS if any(row.get(key) is not None for row in rows)]
        width = max(12, *(len(name) for name in self.names)) + 2
        header = f"{'system':<{width}}" + "".join(f"{h:>16}" for _, h in columns)
        s = self.results[0].settings
        lines = [f"{len(self.names)} systems on {self.results[0].n_clips} clips, {self.results[0].n_events} reference events; "
                 f"same settings (F1 and error rates at {s.f1_threshold:g})", header, "-" * len(header)]
        for name, row in zip(self.names, rows):
            lines.append(f"{name:<{width}}" + "".join(f"{_cell(row.get(key)):>16}" for key, _ in columns))
        if self.differences:
            lines += ["", f"paired 95% intervals of (system - {self.names[0]}) over {s.bootstrap} clip resamples:"]
            lines += self._difference_rows(rows, columns, width)
        return "\n".join(lines)

    def _difference_rows(self, rows: list[dict], columns: list[tuple[str, str]], width: int) -> list[str]:
        """The header and one row of intervals per system after the first; ``*`` marks an interval that misses the
        observed difference (``rows``: each system's ``to_dict()``)."""
        header = f"{'system':<{width}}" + "".join(f"{h:>16} " for _, h in columns)  # a column for the marks
        lines, missed = [header, "-" * len(header)], False
        for name, row in zip(self.names[1:], rows[1:]):
            intervals, cells = self.differences[name], []
            for key, _ in columns:
                first, this = rows[0].get(key), row.get(key)
                outside = None not in (first, this) and key in intervals and not intervals[key][1] <= this - first <= intervals[key][2]
                missed |= outside
                cells.append(f"{_interval(intervals.get(key)):>16}" + ("*" if outside else " "))
            lines.append(f"{name:<{width}}" + "".join(cells))
        if missed:
            lines.append("* the interval misses the observed difference: resampling biases the metric on these clips "
                         "(or the resamples are too few); see 'Bootstrap bias' in docs/evaluation-metrics.md")
        return lines


def compare_files(
    scores_dirs: list[str | Path], ground_truth_tsv: str | Path, durations_tsv: str | Path,
    classes: tuple[str, ...] | None = None, *, names: list[str] | None = None, median_filter_s: float = 0.45,
    progress: bool = False, **options: Any,
) -> Comparison:
    """Every system's :func:`~tbfl.evaluation.evaluate.evaluate_scores` on the same clips, ground truth read once.

    ``scores_dirs``: one score folder (or .npz store) per system; ``classes`` None takes the first system's
    header, and every system must have these classes. ``names`` default to the folder names.
    ``options`` go to ``evaluate_scores`` (``bootstrap`` > 0 gives paired intervals of the differences).
    """
    names = list(names) if names is not None else _names(scores_dirs)
    if len(set(names)) != len(names):
        raise ValueError(f"system names must differ, got {names}")
    first = read_evaluation_files(scores_dirs[0], ground_truth_tsv, durations_tsv, classes, progress=progress)
    results = []
    for path in scores_dirs:
        if results:  # the ground truth and durations of the first read, each system's scores in its classes
            scores, times_s, _ = read_any_scores(path, first.classes, progress=progress)
        else:
            scores, times_s = first.scores, first.times_s
        results.append(evaluate_scores(scores, first.ground_truth, first.durations, first.classes,
                                       frame_hop_s=median_frame_hop_s(times_s), median_filter_s=median_filter_s,
                                       times_s=times_s, **options))
        del scores, times_s
    return Comparison.of(names, results)


def _names(paths) -> list[str]:
    """Folder names (a score store's without ``.npz``), or the full paths where two share a name."""
    short = [(Path(p).stem if Path(p).suffix == ".npz" else Path(p).name) or str(p) for p in paths]
    return short if len(set(short)) == len(short) else [str(p) for p in paths]


def _finite(value: float) -> float | None:
    return None if value != value else float(value)


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _interval(value) -> str:
    if value is None or np.isnan(value[1]):
        return "-"
    return f"[{value[1]:+.3f},{value[2]:+.3f}]"
