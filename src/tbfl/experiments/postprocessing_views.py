"""What post-processing does to each loss: the study's runs under three post-processings.

Each run's stored validation scores (``validation_scores.npz``) are split into two
halves of clips (alternating in name order). Both tuned methods are tuned on the
first half and every method is evaluated on the second:

- ``median 0.45 s``: the baseline's fixed 7-frame median filter for every class;
- ``tuned median``: a median filter length per class (:func:`tbfl.evaluation.postprocessing.tuning.tune_median_filters`);
- ``tuned SEBB``: sound event bounding boxes with per-class settings (:func:`tbfl.evaluation.postprocessing.tuning.tune_sebbs`).

Both are tuned for the per-class threshold-free PSDS1, as the DCASE 2024 baseline tunes its filters.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from tbfl.data.desed import StrongLabels, read_durations_tsv, read_strong_tsv
from tbfl.data.layout import DesedLayout
from tbfl.evaluation import clip_id, evaluate_scores
from tbfl.evaluation.postprocessing.tuning import tune_median_filters, tune_sebbs
from tbfl.experiments.runs import Configuration
from tbfl.experiments.statistics import paired_difference, verdict_columns
from tbfl.experiments.validation_clips import load_scores

METHODS = ("median 0.45 s", "tuned median", "tuned SEBB")
#: metric key of EvaluationResult.to_dict() -> column label
METRICS = {"psds1": "PSDS1", "psds2": "PSDS2", "event_f1_best": "event-F1 (best thr.)"}


def _half(labels: StrongLabels, durations: Mapping[str, float], filenames: Sequence[str]) -> tuple[StrongLabels, dict[str, float]]:
    names = set(filenames)
    events = labels.events[labels.events["filename"].isin(names)]
    return StrongLabels(events, tuple(filenames)), {name: durations[name] for name in filenames}


def postprocessing_table(configurations: Mapping[str, Configuration], layout: DesedLayout, classes: Sequence[str]) -> pd.DataFrame:
    """One row per run and method: configuration, seed, method, PSDS1, PSDS2, event-F1 (best thr.) on the held-out half."""
    classes = tuple(classes)
    labels = read_strong_tsv(layout.path("validation_tsv"), classes)
    durations = read_durations_tsv(layout.path("validation_durations_tsv"))
    rows = []
    for name, config in configurations.items():
        for run in sorted(config.runs, key=lambda r: r.seed):
            filenames, probabilities, frame_hop_s = load_scores(run)
            scores = dict(zip(filenames, probabilities))
            halves = sorted(filenames)[0::2], sorted(filenames)[1::2]
            (tune_labels, tune_durations), (test_labels, test_durations) = (_half(labels, durations, half) for half in halves)
            tune_scores, test_scores = ({clip_id(f): scores[f] for f in half} for half in halves)
            tuned = {
                "tuned median": tune_median_filters(tune_scores, tune_labels, tune_durations, classes, frame_hop_s=frame_hop_s)[0],
                "tuned SEBB": tune_sebbs(tune_scores, tune_labels, tune_durations, classes, frame_hop_s=frame_hop_s)[0],
            }
            for method in METHODS:
                options = {"median_filter_s": 0.45} if method not in tuned else {"postprocess": tuned[method]}
                result = evaluate_scores(test_scores, test_labels, test_durations, classes, frame_hop_s=frame_hop_s, **options)
                values = result.to_dict()
                rows.append({"configuration": name, "seed": run.seed, "method": method,
                             **{label: float(values[key]) for key, label in METRICS.items()}})
    return pd.DataFrame(rows)


def method_means(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of every metric, one row per configuration and method."""
    return table.groupby(["configuration", "method"], sort=False)[list(METRICS.values())].mean().reset_index()


def gap_by_method(table: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """``a - b`` per method and metric, paired by seed, with its 95% t-interval and verdict (alone and after Holm over the table)."""
    rows, differences = [], []
    for method in METHODS:
        for label in METRICS.values():
            values = {config: table[(table.configuration == config) & (table.method == method)].set_index("seed")[label].to_dict()
                      for config in (a, b)}
            differences.append(paired_difference(values[a], values[b]))
            rows.append({"method": method, "metric": label, "seeds": len(differences[-1].seeds)})
    return pd.DataFrame([{**row, **verdicts} for row, verdicts in zip(rows, verdict_columns(differences))])
