"""``tbfl report``: the paper's tables and figures from a folder of finished runs.

Each run folder (from ``tbfl train`` or ``tbfl sweep``) holds ``metrics.json``,
``class_weights.json``, ``config.yaml`` and ``weak_validation_logits.npz``.
Runs that differ only in the seed (``..._s<seed>``) form one configuration
(:mod:`tbfl.experiments.runs`) and are summarised as mean ± sample std (n - 1) over seeds.
Event-F1 is the macro F1 at the best single threshold of the 0.01..0.99 sweep (the paper's
"best performance"), with per-class F1 at that same threshold. The sections are built by
:mod:`tbfl.experiments.sections`; this module puts them in order and writes the files.
"""

from __future__ import annotations

import json
from pathlib import Path

from tbfl.experiments import sections
from tbfl.experiments.runs import BCE, DEFAULT_TBFL, load_runs, summary_table
from tbfl.experiments.tables import dataset_table
from tbfl.experiments.validation_clips import dataset_layout
from tbfl.io import atomic_write_text


def write_report(
    runs_dir: str | Path, out_dir: str | Path, *, tbfl_name: str = DEFAULT_TBFL, bce_name: str = BCE, data_root: str | Path | None = None,
    commit: str | None = None, postprocessing: bool = False,
) -> Path:
    """Write ``report.md``, ``summary.csv``, ``summary.json`` and ``figures/*.png``; return the Markdown path.

    ``data_root``: the dataset the runs were trained on (default: the root in the runs' config), for the
    PSD-ROC curves and event rolls; those two are left out when it is absent. ``commit``: the code's commit, printed.
    ``postprocessing``: also compare the fixed median filter, tuned median filters and tuned SEBBs on the
    configurations of the paired comparisons (minutes per run: the tuning evaluates dozens of settings).
    """
    configurations = load_runs(runs_dir)
    first = next(iter(configurations.values())).runs[0]
    inputs = sections.ReportInputs(Path(runs_dir), Path(out_dir), configurations, tbfl_name, bce_name, commit,
                                   dataset_table(first), dataset_layout(first, data_root))
    summary = summary_table(configurations)
    md = [
        *sections.introduction(inputs),
        *sections.endings(inputs),
        *sections.dataset(inputs),
        *sections.summary(inputs, summary),
        *sections.k_equivalents(inputs),
        *sections.sweeps_against_paper_point(configurations),
        *sections.against_class_balance(configurations),
        *sections.paired_differences(inputs),
        *sections.validation_views(inputs, postprocessing),
        *sections.sweep_figure(inputs),
        *sections.classwise(inputs),
    ]
    out_dir, classes = inputs.out_dir, inputs.classes
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "summary.csv", summary.to_csv(index=False))
    atomic_write_text(out_dir / "dataset_table.csv", inputs.table1.to_csv(index=False))
    per_class = {name: {metric: dict(zip(classes, config.per_class(metric, classes).mean(0).tolist())) for metric in ("event_f1_best", "psds1", "psds2")}
                 for name, config in configurations.items()}
    atomic_write_text(out_dir / "summary.json", json.dumps({"summary": summary.to_dict(orient="records"), "per_class_mean": per_class,
                                                            "runs": {n: [r.name for r in c.runs] for n, c in configurations.items()}}, indent=2))
    report = out_dir / "report.md"
    atomic_write_text(report, "\n".join(md))
    return report
