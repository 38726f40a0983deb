"""Seed-paired comparisons of two configurations: overall, per class, short vs long events.

Each row is one :class:`~tbfl.experiments.statistics.PairedDifference` of a
metric between configuration ``a`` and configuration ``b`` (``a - b``). Each
table is one family for Holm's correction: its last column says which
verdicts survive it.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from tbfl.experiments.runs import HEADLINE_METRICS, METRIC_LABELS, SHORT_EVENT_S, Configuration
from tbfl.experiments.statistics import PairedDifference, holm_verdicts, paired_difference, verdict_columns

#: Per-class metrics compared class by class (event-F1 per class is at the macro-best threshold).
PER_CLASS_METRICS = ("event_f1_best", "psds1", "psds2", "intersection_f1")


def _table(rows: Sequence[tuple[str, str, PairedDifference]]) -> pd.DataFrame:
    """One row per (scope, metric, difference), with the verdict alone and after Holm over all rows."""
    columns = verdict_columns([difference for _, _, difference in rows])
    return pd.DataFrame([{
        "scope": scope,
        "metric": METRIC_LABELS[metric],
        "seeds": len(difference.seeds),
        "per-seed differences": " ".join(f"{d:+.3f}" for d in difference.differences),
        **verdicts,
    } for (scope, metric, difference), verdicts in zip(rows, columns)])


def _by_seed(config: Configuration, value: Callable) -> dict[int, float]:
    return {run.seed: float(value(run)) for run in config.runs}


def overall_differences(a: Configuration, b: Configuration) -> pd.DataFrame:
    """``a - b`` for every headline metric (PSDS1, PSDS2, event-F1 best and at 0.5, intersection-F1)."""
    return _table([("overall", m, paired_difference(_by_seed(a, lambda r: r.metrics.value(m)), _by_seed(b, lambda r: r.metrics.value(m))))
                   for m in HEADLINE_METRICS])


def class_differences(a: Configuration, b: Configuration, classes: Sequence[str], event_duration_s: Sequence[float], metric: str = "event_f1_best") -> pd.DataFrame:
    """``a - b`` of one per-class metric for every class, then for the mean over short and over long classes."""
    rows = []
    for name, duration_s in zip(classes, event_duration_s):
        difference = paired_difference(_by_seed(a, lambda r: r.per_class(metric)[name]), _by_seed(b, lambda r: r.per_class(metric)[name]))
        rows.append((f"{name} ({duration_s:.1f} s)", metric, difference))
    short = np.asarray(event_duration_s) < SHORT_EVENT_S
    for label, mask in ((f"short events (< {SHORT_EVENT_S:g} s)", short), (f"long events (>= {SHORT_EVENT_S:g} s)", ~short)):
        members = [c for c, keep in zip(classes, mask) if keep]
        if members:
            group_mean = lambda run: np.mean([run.per_class(metric)[c] for c in members])  # noqa: E731
            rows.append((label, metric, paired_difference(_by_seed(a, group_mean), _by_seed(b, group_mean))))
    return _table(rows)


#: Marks of a cell of :func:`against_reference`: confirmed (interval excludes 0), and also after Holm.
CONFIRMED_MARK, HOLM_MARK = " ✓", " ✓ Holm"


def against_reference(configurations: Mapping[str, Configuration], reference: str) -> pd.DataFrame:
    """Every other configuration - ``reference`` on the headline metrics, paired by seed.

    One row per configuration, one ``mean [95% CI]`` cell per metric, marked with
    :data:`CONFIRMED_MARK` when the interval excludes 0 and :data:`HOLM_MARK` when that
    survives Holm's correction over every cell of the table.
    """
    base = configurations[reference]
    names = [name for name in configurations if name != reference]
    cells = {(name, m): paired_difference(_by_seed(configurations[name], lambda r: r.metrics.value(m)), _by_seed(base, lambda r: r.metrics.value(m)))
             for name in names for m in HEADLINE_METRICS}
    after_holm = dict(zip(cells, holm_verdicts(list(cells.values()))))

    def cell(key: tuple[str, str]) -> str:
        mark = HOLM_MARK if after_holm[key] != "not shown" else CONFIRMED_MARK if cells[key].verdict != "not shown" else ""
        return cells[key].format() + mark

    return pd.DataFrame([{"configuration": name, "seeds": len(cells[(name, HEADLINE_METRICS[0])].seeds),
                          **{METRIC_LABELS[m]: cell((name, m)) for m in HEADLINE_METRICS}} for name in names])
