"""The report's sections: each builder returns its Markdown lines (and writes its figures).

:func:`tbfl.experiments.report.write_report` puts them in order; a section whose configurations did
not run returns no line. Configuration names come from :mod:`tbfl.experiments.runs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import yaml

from tbfl.data.layout import DesedLayout
from tbfl.experiments import comparisons, figures, postprocessing_views, validation_clips
from tbfl.experiments.runs import (
    CBFL, DEFAULT_TBFL, FOCAL, GAMMA_SWEEP, HEADLINE_METRICS, K_SWEEP, METRIC_LABELS, PAPER_PATTERN_TBFL, SHORT_EVENT_S, TBFL_KINF,
    TBFL_UNIFORM, Configuration, Run, Sweep, mean_std,
)
from tbfl.experiments.tables import (
    class_logits, comparison_table, endings_table, learning_curves, logit_summary, paper_equivalent_k, relative_per_class,
)
from tbfl.io import atomic_write_text

SWEEP_METRICS = ("event_f1_best", "psds1", "psds2")  # the rows of Fig. 2
#: Each sweep, its paper's best point (k = 1000 on DESED is k = 250 here; gamma = 2 at k = 1000) and the sweep's words.
SWEEPS_AGAINST_PAPER_POINT = ((K_SWEEP, PAPER_PATTERN_TBFL, "k at gamma = 2, against k = 250 (the paper's k = 1000 on this dataset)"),
                              (GAMMA_SWEEP, DEFAULT_TBFL, "gamma at k = 1000, against gamma = 2"))
#: The gamma = 2 configurations set against CBFL: does weighting by the share of positive frames r_c as well change
#: anything? k = inf weights by V_c alone too, so it is the check that should not differ.
AGAINST_CBFL = (FOCAL, PAPER_PATTERN_TBFL, DEFAULT_TBFL, TBFL_KINF)


@dataclass
class ReportInputs:
    """What the sections read: the runs, the names compared, the dataset's Table 1 and where figures go.

    ``table1``: :func:`~tbfl.experiments.tables.dataset_table` of the first run; ``durations``: (C,) mean event
    duration per class (s, 0 where unknown); ``layout``: the runs' dataset when its validation set is there, else None.
    """

    runs_dir: Path
    out_dir: Path
    configurations: dict[str, Configuration]
    tbfl_name: str
    bce_name: str
    commit: str | None
    table1: pd.DataFrame
    layout: DesedLayout | None

    @property
    def figure_dir(self) -> Path:
        return self.out_dir / "figures"

    @property
    def first(self) -> Run:
        return next(iter(self.configurations.values())).runs[0]

    @property
    def classes(self) -> list[str]:
        return list(self.table1["class"])

    @property
    def durations(self) -> np.ndarray:
        return self.table1["avg_event_duration_s"].fillna(0).to_numpy()

    @property
    def bce(self) -> Configuration | None:
        return self.configurations.get(self.bce_name)

    @property
    def tbfl(self) -> Configuration | None:
        return _pick(self.configurations, [self.tbfl_name], "tbfl_")

    @property
    def focal(self) -> Configuration | None:
        return _pick(self.configurations, [FOCAL, TBFL_UNIFORM], "focal")

    def present(self, names: Sequence[str]) -> list[str]:
        """The ``names`` that ran, in order."""
        return [name for name in names if name in self.configurations]

    def label(self, name: str) -> str:
        """Figure label of a configuration: the names the figures' colours know."""
        named = {self.bce_name: "BCE", FOCAL: "focal (w_c = 1)", self.tbfl_name: "TBFL"}
        if name in named:
            return named[name]
        k = K_SWEEP.value(name)
        return f"TBFL k = {k}" if k is not None else name


def introduction(inputs: ReportInputs) -> list[str]:
    """The report's title and how to read its numbers."""
    configurations, commit = inputs.configurations, inputs.commit
    return [f"# TBFL study report\n\nRuns: `{inputs.runs_dir}` ({sum(len(c.runs) for c in configurations.values())} runs, "
            f"{len(configurations)} configurations{f', code at commit {commit}' if commit else ''}). Values are mean ± sample std (n - 1) over seeds. "
            "Event-F1 is macro F1 at the best single threshold of the 0.01..0.99 sweep (200 ms collars); PSDS at the 50 operating points. "
            "Differences between two configurations are paired by seed: mean difference with a 95% Student-t interval "
            "(n - 1 degrees of freedom); a difference is *confirmed* only when its interval excludes 0. "
            "Each table tests many differences at once, so about one in twenty rows without a true difference is "
            "confirmed by chance: `p` is the paired t-test's two-sided p-value, and the last column keeps only the "
            "verdicts that survive Holm's correction over the rows of that table (family-wise error <= 5%).\n"]


def endings(inputs: ReportInputs) -> list[str]:
    """How the runs ended, and the learning curves of the main configurations."""
    md = ["## How the runs ended\n", markdown_table(endings_table(inputs.configurations), floats=3), ""]
    names = inputs.present([inputs.bce_name, FOCAL, inputs.tbfl_name, PAPER_PATTERN_TBFL])
    curve_configs = {name: learning_curves(inputs.configurations[name]) for name in names}
    curve_configs = {inputs.label(name): curves for name, curves in curve_configs.items() if curves}
    if curve_configs:
        figures.figure_learning_curves(curve_configs, inputs.figure_dir / "learning_curves.png")
        md += ["### Learning curves\n", f"Mean over seeds, band from the lowest to the highest seed, a tick where each seed stopped. TBFL is {inputs.tbfl_name}.\n",
               "![learning curves](figures/learning_curves.png)\n"]
    return md


def dataset(inputs: ReportInputs) -> list[str]:
    """Table 1 of the runs' dataset and the class weights each weighted configuration used."""
    md = ["## Dataset statistics (Table 1)\n", markdown_table(inputs.table1, floats=3), ""]
    weighted = [(n, c.runs[0].weights.get("weights")) for n, c in inputs.configurations.items() if c.runs[0].weights.get("weights")]
    if weighted:
        weights_table = pd.DataFrame({"class": inputs.classes, **{n: w for n, w in weighted}})
        md += ["### Class weights used\n", markdown_table(weights_table, floats=3), ""]
    return md


def summary(inputs: ReportInputs, table: pd.DataFrame) -> list[str]:
    """The summary table (:func:`~tbfl.experiments.runs.summary_table`) and every configuration against BCE."""
    md = ["## Summary\n", markdown_table(_summary_for_markdown(table), floats=3), ""]
    return md + against_section(f"Every configuration against {inputs.bce_name}", inputs.configurations, inputs.bce_name)


def k_equivalents(inputs: ReportInputs) -> list[str]:
    """Each k of the sweep next to the paper's equivalent k (empty without the paper's Table 1)."""
    equivalents = paper_equivalent_k(inputs.table1, [float(v) for v, _ in K_SWEEP.points(inputs.configurations)])
    if not len(equivalents):
        return []
    return ["### k on this dataset and on the paper's\n", "k acts through floor(k r_c) / V_c; with V_c scaled down, the k that puts "
            "the weights where the paper's k put them on DESED is the paper's k divided by the V_c ratio.\n", markdown_table(equivalents, floats=3), ""]


def sweeps_against_paper_point(configurations: dict[str, Configuration]) -> list[str]:
    """Markdown: every point of each sweep against the paper's best point, paired by seed.

    Tests the paper's "k = 1000, gamma = 2 best": a point confirmed higher than the paper's beats it.
    """
    md = []
    for sweep, paper_point, words in SWEEPS_AGAINST_PAPER_POINT:
        points = dict((config.name, config) for _, config in sweep.points(configurations))
        md += against_section(f"The sweep of {words}", points, paper_point)
    return md


def against_class_balance(configurations: dict[str, Configuration]) -> list[str]:
    """Markdown: the configurations of :data:`AGAINST_CBFL` that ran, against CBFL, paired by seed (empty without CBFL)."""
    compared = {name: configurations[name] for name in (*AGAINST_CBFL, CBFL) if name in configurations}
    return against_section("Time balance against class balance: each configuration against CBFL (gamma = 2)", compared, CBFL,
                           "CBFL weights by the volumes V_c alone, TBFL by V_c and the share of positive frames r_c; "
                           "k = inf is TBFL's V_c-only limit, so it should not differ from CBFL.\n")


def paired_differences(inputs: ReportInputs) -> list[str]:
    """TBFL (the report's and the paper-pattern one) minus BCE and focal, overall and per class, paired by seed."""
    configurations, md = inputs.configurations, []
    for a in inputs.present([inputs.tbfl_name, PAPER_PATTERN_TBFL]):
        for b in inputs.present([inputs.bce_name, FOCAL]):
            md += [f"## Paired differences: {a} - {b}\n", markdown_table(comparisons.overall_differences(configurations[a], configurations[b]), floats=3), "",
                   "Per class (event-F1 at each run's best macro threshold), and the mean over short and long classes:\n",
                   markdown_table(comparisons.class_differences(configurations[a], configurations[b], inputs.classes, inputs.durations), floats=3), ""]
    return md


def validation_views(inputs: ReportInputs, postprocessing: bool) -> list[str]:
    """PSD-ROC curves and event rolls from the stored validation scores, then (``postprocessing``) the
    post-processing comparison; empty without the dataset or with fewer than two main configurations."""
    layout, classes, configurations = inputs.layout, inputs.classes, inputs.configurations
    shown = {inputs.label(name): configurations[name] for name in inputs.present([inputs.bce_name, FOCAL, inputs.tbfl_name])}
    if layout is None or len(shown) < 2:
        return []
    curves = validation_clips.psd_roc_curves(shown, layout, classes)
    figures.figure_psd_roc(curves, inputs.figure_dir / "psd_roc.png")
    md = ["## PSD-ROC curves\n", "One line per seed, from the stored validation scores (float16).\n", "![PSD-ROC](figures/psd_roc.png)\n"]
    short_classes = [c for c, d in zip(classes, inputs.durations) if d < SHORT_EVENT_S]
    chosen = validation_clips.short_event_clips(layout, classes, short_classes)
    rolled = dict(shown)
    if PAPER_PATTERN_TBFL in configurations:
        rolled[inputs.label(PAPER_PATTERN_TBFL)] = configurations[PAPER_PATTERN_TBFL]
    systems = {label: min(config.runs, key=lambda r: r.seed) for label, config in rolled.items()}
    features = yaml.safe_load(inputs.first.folder.config.read_text()).get("features") or {}
    clips = validation_clips.event_roll_clips(systems, layout, classes, chosen, features)
    figures.figure_event_rolls(clips, classes, inputs.figure_dir / "event_rolls.png")
    md += ["## Event rolls of validation clips with short events\n",
           f"Log-mel, ground truth, then each system's frame probabilities in blue (lowest seed), the truth outlined in red, "
           "and the system's detected events as black bars (0.45 s median filter, threshold 0.5: the events event-F1 @0.5 scores). "
           f"TBFL is {inputs.tbfl_name}. Clips: {', '.join(chosen)}.\n",
           "![event rolls](figures/event_rolls.png)\n"]
    if postprocessing:
        md += postprocessing_section(inputs)
    return md


def postprocessing_section(inputs: ReportInputs) -> list[str]:
    """Markdown of the post-processing comparison; its rows also go to ``postprocessing.csv``."""
    bce_name, configurations = inputs.bce_name, inputs.configurations
    compared = inputs.present([bce_name, FOCAL, inputs.tbfl_name, PAPER_PATTERN_TBFL])
    table = postprocessing_views.postprocessing_table({name: configurations[name] for name in compared}, inputs.layout, inputs.classes)
    atomic_write_text(inputs.out_dir / "postprocessing.csv", table.to_csv(index=False, float_format="%.4f"))
    md = ["## Post-processing: fixed median filter, tuned median filters, tuned SEBBs\n",
          "The validation clips split in two halves (alternating in name order): tuned on the first, every method "
          "evaluated on the second (so the values differ from the full-set ones above). "
          "Mean over seeds:\n", markdown_table(postprocessing_views.method_means(table), 3) + "\n"]
    for name in compared:
        if name != bce_name and bce_name in compared:
            md += [f"{name} - {bce_name} under each post-processing (paired by seed):\n",
                   markdown_table(postprocessing_views.gap_by_method(table, name, bce_name), 3) + "\n"]
    return md


def sweep_figure(inputs: ReportInputs) -> list[str]:
    """Fig. 2: event-F1, PSDS1 and PSDS2 against k and gamma, with BCE and focal as references."""
    sweep_rows = []  # one row of panels per metric: the paper's event-F1, then PSDS1 and PSDS2
    axes: tuple[tuple[str, Sweep, str], ...] = (("k", K_SWEEP, "TBFL, gamma = 2: against k"), ("gamma", GAMMA_SWEEP, "TBFL, k = 1000: against gamma"))
    for metric in SWEEP_METRICS:
        references = {label: mean_std(config.values(metric)) for label, config in (("BCE", inputs.bce), ("focal (w_c = 1)", inputs.focal)) if config}
        row = []
        for axis_label, sweep, title in axes:
            points = sweep.points(inputs.configurations)
            if len(points) >= 2:
                stats = [mean_std(c.values(metric)) for _, c in points]
                row.append(dict(axis_label=axis_label, values=[f"{v}\n({len(c.runs)} seed{'s' * (len(c.runs) > 1)})" for v, c in points],
                                means=[m for m, _ in stats], stds=[sd for _, sd in stats], references=references, ylabel=METRIC_LABELS[metric], title=title))
        if row:
            sweep_rows.append(row)
    if not sweep_rows:
        return []
    figures.figure_sweeps(sweep_rows, inputs.figure_dir / "fig2_sweeps.png")
    return ["## Event-F1 and PSDS against k and gamma (Fig. 2)\n",
            "The paper's Fig. 2 is the first row (event-F1 at the best threshold); the PSDS1 and PSDS2 rows are added. Mean ± std over seeds.\n",
            "![sweeps](figures/fig2_sweeps.png)\n"]


def classwise(inputs: ReportInputs) -> list[str]:
    """Fig. 3 (class-wise event-F1 of BCE, TBFL, focal), Fig. 4 (relative per-class PSDS) and Fig. 5 (frame logits);
    empty unless BCE and TBFL ran."""
    bce, tbfl, focal, classes, durations = inputs.bce, inputs.tbfl, inputs.focal, inputs.classes, inputs.durations
    if not (bce and tbfl):
        return []
    figure_dir = inputs.figure_dir
    series = {"BCE": _series(bce.per_class("event_f1_best", classes)), "TBFL": _series(tbfl.per_class("event_f1_best", classes))}
    if focal:
        series["focal (w_c = 1)"] = _series(focal.per_class("event_f1_best", classes))
    figures.figure_classwise(classes, series, ylabel="event-F1 (best threshold)", title=f"Class-wise event-F1: {bce.name} vs {tbfl.name}",
                             out_png=figure_dir / "fig3_classwise_f1.png")
    compared = {n: c for n, c in inputs.configurations.items() if any(c is chosen for chosen in (bce, tbfl, focal))}
    md = ["## Class-wise event-F1 (Fig. 3)\n", "![classwise](figures/fig3_classwise_f1.png)\n",
          "```\n" + comparison_table(compared, classes, durations) + "\n```\n"]
    ratios = {metric.upper(): relative_per_class(tbfl, bce, metric, classes) for metric in ("psds1", "psds2")}
    volumes = np.asarray(inputs.table1["V_c"], dtype=float)
    figures.figure_relative(classes, ratios, {"data volume V_c": volumes, "mean event duration (s)": durations},
                            figure_dir / "fig4_relative_psds.png")
    md += ["## Relative per-class PSDS, TBFL / BCE (Fig. 4)\n", "![relative](figures/fig4_relative_psds.png)\n"]
    ratio_table = pd.DataFrame({"class": classes, "V_c": volumes, "avg_event_duration_s": durations,
                                **{f"{m} ratio": r[0] for m, r in ratios.items()}}).sort_values("avg_event_duration_s")
    md += [markdown_table(ratio_table, floats=3), ""]
    logits = {"BCE": class_logits(bce, classes), "TBFL": class_logits(tbfl, classes)}
    if focal:  # tells the focal term's effect on the posteriors from the weights'
        logits["focal (w_c = 1)"] = class_logits(focal, classes)
    if any(v.size for per_class in logits.values() for v in per_class):
        figures.figure_logit_histograms(classes, logits, figure_dir / "fig5_logit_histograms.png")
        md += ["## Frame logits on weak-validation clips of each class (Fig. 5)\n", "![histograms](figures/fig5_logit_histograms.png)\n",
               "Per class, sorted by mean event duration: the median frame logit and the share of frames with a positive "
               "logit (probability > 0.5), all seeds pooled.\n", markdown_table(logit_summary(logits, classes, durations), floats=2), ""]
    return md


def against_section(title: str, compared: dict[str, Configuration], reference: str, explanation: str = "") -> list[str]:
    """Markdown: a ``###`` section with every configuration of ``compared`` against ``reference`` (empty unless both ran)."""
    if reference not in compared or len(compared) < 2:
        return []
    return [f"### {title}\n", *([explanation] if explanation else []), _against_legend(reference),
            markdown_table(comparisons.against_reference(compared, reference), floats=3), ""]


def _against_legend(reference: str) -> str:
    """The sentence above a table of :func:`~tbfl.experiments.comparisons.against_reference`."""
    return (f"Mean difference to {reference} over the common seeds, 95% t-interval; {comparisons.CONFIRMED_MARK.strip()}: the interval excludes 0; "
            f"{comparisons.HOLM_MARK.strip()}: that survives Holm's correction over every cell of this table.\n")


def _pick(configurations: dict[str, Configuration], preferred: Sequence[str], prefix: str) -> Configuration | None:
    for name in preferred:
        if name in configurations:
            return configurations[name]
    candidates = [c for n, c in configurations.items() if n.startswith(prefix)]
    return candidates[0] if candidates else None


def _series(per_seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return per_seed.mean(0), per_seed.std(0, ddof=1) if len(per_seed) > 1 else np.zeros(per_seed.shape[1])


def _summary_for_markdown(summary: pd.DataFrame) -> pd.DataFrame:
    table = summary[["configuration", "seeds"]].copy()
    for metric in HEADLINE_METRICS:
        mean, std = summary[f"{metric}_mean"], summary[f"{metric}_std"]
        table[METRIC_LABELS[metric]] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean, std)]
    return table


def markdown_table(table: pd.DataFrame, floats: int) -> str:
    """A GitHub Markdown table (no extra dependency)."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "n/a" if math.isnan(value) else f"{value:.{floats}f}"
        return str(value)

    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
