"""Study 2's analysis, exactly as fixed by docs/study2/protocol.md (H1-H4), over an archive of runs.

A study-2 run folder is named ``<dataset>-<configuration>_s<seed>`` (:func:`~tbfl.experiments.runs.run_name`
with ``data.root``), its dataset ``d<d>v<v>s<scale>-<generator seed>``. The unit of analysis is the dataset:
a contrast gives one number per dataset (the mean over its training seeds of the seed-paired differences),
and tests run over datasets. Only runs that stopped on the plateau rule count. A block whose runs are not all
finished gets its numbers but the verdict ``pending``: the protocol computes verdicts on complete blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from tbfl.experiments.figures import figure_learning_curves, plot_gain_against_level
from tbfl.experiments.runs import SEED_SUFFIX, SHORT_EVENT_S, Configuration, run_name, runs_table
from tbfl.experiments.runs import load_runs as load_configurations
from tbfl.experiments.sections import markdown_table
from tbfl.experiments.statistics import equivalence_interval, holm_adjusted, paired_difference, protocol_verdict, slope_test
from tbfl.experiments.tables import learning_curves as configuration_learning_curves
from tbfl.io import atomic_write_text, read_yaml
from tbfl.run_folder import METRICS_FILE, RunFolder

DATASET = re.compile(r"^d(?P<d>\d+)v(?P<v>\d+)s(?P<scale>[0-9.]+)-(?P<seed>\d+)$")
BCE = run_name({"loss.name": "bce"})
FOCAL = run_name({"loss.name": "focal", "loss.gamma": 2})
TBFL = run_name({"loss.name": "tbfl", "loss.k": "auto", "loss.gamma": 2})
CBFL = run_name({"loss.name": "cbfl", "loss.beta": 0.999, "loss.gamma": 2})
#: H4's league, in the protocol's order.
LEAGUE = (BCE, FOCAL, CBFL, TBFL, "asl", "labce", "owbce")
#: H3's configurations: k: auto at targets 0.25, 1 and 4.
H3_TARGETS = {0.25: run_name({"loss.name": "tbfl", "loss.k": "auto", "loss.k_auto_target": 0.25, "loss.gamma": 2}),
              1.0: TBFL, 4.0: run_name({"loss.name": "tbfl", "loss.k": "auto", "loss.k_auto_target": 4.0, "loss.gamma": 2})}
#: The metrics of the protocol, by their column in :func:`load_runs`.
METRICS = {"psds1": "PSDS1", "psds2": "PSDS2", "event_f1": "event-F1 (synthetic-validation threshold)",
           "short_f1": "short-event F1", "long_f1": "long-event F1"}
#: The protocol's design: datasets of each block (generator seeds) and its size in runs.
PAPER = tuple(f"d1v1s0.25-{seed}" for seed in (201, 202, 203, 204))
H2_WORLDS = {"flat": ("d0v0s0.25-301", "d0v0s0.25-302"), "duration-flat": ("d0v1s0.25-311", "d0v1s0.25-312"),
             "duration-wide": ("d2v1s0.25-321", "d2v1s0.25-322"), "volume-flat": ("d1v0s0.25-331", "d1v0s0.25-332"),
             "volume-wide": ("d1v2s0.25-341", "d1v2s0.25-342")}
#: The datasets of H2's five worlds besides the paper's, and all of H2's.
H2_WORLD_DATASETS = tuple(d for pair in H2_WORLDS.values() for d in pair)
H2_DATASETS = PAPER + H2_WORLD_DATASETS
#: H3's V_c scales and their datasets; target 1 at scale 0.25 is H1's TBFL (k: auto) run of seed 1.
H3_SCALES = {0.25: PAPER[:2], 1.0: ("d1v1s1-401", "d1v1s1-402")}
#: What a mean over study 2's units is over: one value per dataset ("+0.011 (1 dataset)" when there is one).
UNIT = "dataset"


@dataclass(frozen=True)
class DatasetName:
    """A study-2 dataset: duration spread ``d``, volume spread ``v``, V_c ``scale`` and generator ``seed``."""

    name: str
    d: int
    v: int
    scale: float
    seed: int

    @classmethod
    def parse(cls, name: str) -> "DatasetName":
        match = DATASET.match(name)
        if match is None:
            raise ValueError(f"{name!r} is not a study-2 dataset name (d<d>v<v>s<scale>-<seed>)")
        return cls(name, int(match["d"]), int(match["v"]), float(match["scale"]), int(match["seed"]))


RUN_COLUMNS = ("run", "dataset", "d", "v", "scale", "configuration", "seed", "plateau", "epochs", "k", "weight_ratio", "class_weights",
               *METRICS, "per_class", "event_duration_s")


def load_runs(runs_dir: str | Path) -> pd.DataFrame:
    """One row per finished run under ``runs_dir``: run, dataset, d, v, scale, configuration, seed, plateau (bool),
    epochs, k (the k used), weight_ratio (largest / smallest class weight) and class_weights (class -> w_c), all
    TBFL's only (NaN and empty otherwise), the metrics of
    :data:`METRICS`, ``per_class`` (class -> event-F1 at the synthetic-validation threshold) and
    ``event_duration_s`` (class -> its mean strong-label event length, in seconds)."""
    rows = []
    for metrics_file in sorted(Path(runs_dir).glob(f"*/{METRICS_FILE}")):
        folder = RunFolder(metrics_file.parent)
        dataset = DatasetName.parse(Path(str(read_yaml(folder.config, "run config")["data"]["root"])).name)
        match = SEED_SUFFIX.search(folder.path.name)
        prefix = f"{dataset.name}-"
        if match is None or not folder.path.name.startswith(prefix):
            raise ValueError(f"{folder.path}: not named <dataset>-<configuration>_s<seed> after its data.root {dataset.name}")
        metrics, weights = folder.read_metrics(), folder.read_class_weights()
        per_class = metrics.per_class("event_f1_synth_threshold")
        statistics = weights["statistics"]
        short = [c for c, duration_s in zip(statistics["classes"], statistics["avg_event_duration_s"]) if duration_s < SHORT_EVENT_S]
        long = [c for c in statistics["classes"] if c not in short]
        # k is TBFL's; other losses record the recipe's unused default, which is left out.
        k = weights.get("k", weights.get("loss", {}).get("k")) if weights.get("loss", {}).get("name") == "tbfl" else None
        rows.append({
            "run": folder.path.name, "dataset": dataset.name, "d": dataset.d, "v": dataset.v, "scale": dataset.scale,
            "configuration": folder.path.name[len(prefix): match.start()], "seed": int(match.group(1)),
            "plateau": str(metrics.training.get("stop_reason", "")).startswith("plateau"),
            "epochs": metrics.training.get("epochs_trained"),
            "k": k["chosen"] if isinstance(k, dict) else k,
            "weight_ratio": float(np.max(weights["weights"]) / np.min(weights["weights"])) if k is not None else np.nan,
            "class_weights": dict(zip(weights["classes"], map(float, weights["weights"]))) if k is not None else {},
            "psds1": metrics.psds1, "psds2": metrics.psds2, "event_f1": metrics.value("event_f1_synth_threshold"),
            "short_f1": float(np.mean([per_class[c] for c in short])) if short else np.nan,
            "long_f1": float(np.mean([per_class[c] for c in long])) if long else np.nan,
            "per_class": per_class,
            "event_duration_s": dict(zip(statistics["classes"], map(float, statistics["avg_event_duration_s"]))),
        })
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def dataset_differences(runs: pd.DataFrame, a: str, b: str, metric: str, datasets: Sequence[str]) -> dict[str, float]:
    """Dataset -> the mean over common training seeds of ``a - b`` (plateau runs only); datasets without a pair are left out."""
    counted = runs[runs["plateau"].astype(bool)]
    differences = {}
    for dataset in datasets:
        here = counted[counted["dataset"] == dataset]
        by_seed = {config: dict(zip(rows["seed"], rows[metric])) for config, rows in here.groupby("configuration")}
        seeds = sorted(set(by_seed.get(a, {})) & set(by_seed.get(b, {})))
        if seeds:
            differences[dataset] = float(np.mean([by_seed[a][s] - by_seed[b][s] for s in seeds]))
    return differences


def _expected(datasets: Sequence[str], configurations: Sequence[str], seeds: Sequence[int]) -> set[str]:
    return {f"{dataset}-{config}_s{seed}" for dataset in datasets for config in configurations for seed in seeds}


def _complete(runs: pd.DataFrame, expected: set[str]) -> tuple[bool, str]:
    done = expected & set(runs["run"])
    return done == expected, f"{len(done)} of {len(expected)} runs"


def _over_datasets(contrasts: list[tuple[str, dict[str, float]]], complete: bool) -> pd.DataFrame:
    """One row per (label, dataset -> difference): mean [95% CI] over datasets, p, Holm over the rows, verdict."""
    tests = [paired_difference(values, {key: 0.0 for key in values}) if values else None for _, values in contrasts]
    adjusted = holm_adjusted([t.p_value if t is not None else np.nan for t in tests])
    rows = []
    for (label, values), test, holm_p in zip(contrasts, tests, adjusted):
        verdict = "pending" if not complete or test is None or len(values) < 2 else protocol_verdict(test.mean, test.ci_low, test.ci_high, holm_p)
        rows.append({
            "contrast": label, "datasets": len(values),
            "per-dataset differences": " ".join(f"{v:+.3f}" for v in values.values()),
            "mean [95% CI]": "" if test is None else test.format(unit=UNIT),
            "p": "" if test is None else test.format_p(),
            "Holm p": "" if np.isnan(holm_p) else f"{holm_p:.3f}", "verdict": verdict,
        })
    return pd.DataFrame(rows)


def h1(runs: pd.DataFrame) -> pd.DataFrame:
    """H1 (primary): TBFL (k: auto) - BCE on PSDS2 and short-event F1 over the paper world's datasets; Holm over 2."""
    complete, _ = _complete(runs, _expected(PAPER, (BCE, TBFL), (1, 2)))
    return _over_datasets(_tbfl_against_bce(runs, ("psds2", "short_f1")), complete)


def h1_exploratory(runs: pd.DataFrame) -> pd.DataFrame:
    """H1's other metrics (exploratory: no family, no verdict): TBFL - BCE on PSDS1, event-F1 and long-event F1 over the
    paper world's datasets, mean [95% CI] and the unadjusted p."""
    return _over_datasets(_tbfl_against_bce(runs, ("psds1", "event_f1", "long_f1")), complete=False).drop(columns=["Holm p", "verdict"])


def _tbfl_against_bce(runs: pd.DataFrame, metrics: Sequence[str]) -> list[tuple[str, dict[str, float]]]:
    """(label, dataset -> TBFL - BCE) of each metric over the paper world's datasets."""
    return [(f"{TBFL} - {BCE}: {METRICS[m]}", dataset_differences(runs, TBFL, BCE, m, PAPER)) for m in metrics]


def h2(runs: pd.DataFrame, metric: str = "psds2") -> pd.DataFrame:
    """H2: slopes of the TBFL - focal gain against the duration and the volume spread (Holm over 2); the flat world by TOST."""
    complete, _ = _complete(runs, _expected(H2_DATASETS, (FOCAL, TBFL), (1,)))
    # a metric undefined on a dataset (short-event F1 where no class is short) leaves that dataset out
    gains = {d: g for d, g in dataset_differences(runs[runs["seed"] == 1], TBFL, FOCAL, metric, H2_DATASETS).items() if not np.isnan(g)}
    rows, tests = [], []
    for axis, worlds in (("duration", ("duration-flat", "duration-wide")), ("volume", ("volume-flat", "volume-wide"))):
        members = [d for d in PAPER + H2_WORLDS[worlds[0]] + H2_WORLDS[worlds[1]] if d in gains]
        levels = [getattr(DatasetName.parse(d), axis[0]) for d in members]
        try:
            tests.append(slope_test(levels, [gains[d] for d in members]))
        except ValueError:
            tests.append(None)
        rows.append({"contrast": f"{axis} spread: slope of {TBFL} - {FOCAL} ({METRICS[metric]})", "datasets": len(members)})
    adjusted = holm_adjusted([t.p_value if t is not None else np.nan for t in tests])
    for row, test, holm_p in zip(rows, tests, adjusted):
        row.update({"estimate [95% CI]": "" if test is None else test.format(), "p": "" if test is None else f"{test.p_value:.3f}",
                    "Holm p": "" if np.isnan(holm_p) else f"{holm_p:.3f}",
                    "verdict": "pending" if not complete or test is None else protocol_verdict(test.estimate, test.ci_low, test.ci_high, holm_p)})
    flat = [gains[d] for d in H2_WORLDS["flat"] if d in gains]
    if len(flat) >= 2:
        low, high, equivalent = equivalence_interval(flat, margin=0.02)
        interval, verdict = f"{np.mean(flat):+.3f} [{low:+.3f}, {high:+.3f}] (90%)", ("confirmed" if equivalent else "inconclusive")
    else:
        interval, verdict = "", "pending"
    rows.append({"contrast": f"flat world: {TBFL} - {FOCAL} inside (-0.02, +0.02) ({METRICS[metric]})", "datasets": len(flat),
                 "estimate [95% CI]": interval, "p": "", "Holm p": "", "verdict": verdict if complete else "pending"})
    return pd.DataFrame(rows)


def h2_exploratory(runs: pd.DataFrame) -> pd.DataFrame:
    """H2's exploratory analyses (no family, no verdict, p not adjusted): its slopes and flat-world interval on
    short-event F1, and the slope of the PSDS2 gain (seed 1) against the spread of TBFL's weights,
    ln(largest / smallest w_c), over every H2 dataset with both runs."""
    short = h2(runs, "short_f1").drop(columns=["Holm p", "verdict"])
    seed1 = runs[runs["seed"] == 1]
    gains = dataset_differences(seed1, TBFL, FOCAL, "psds2", H2_DATASETS)
    tbfl = seed1[seed1["plateau"].astype(bool) & (seed1["configuration"] == TBFL)].set_index("dataset")["weight_ratio"]
    members = [d for d in gains if d in tbfl.index]
    try:
        test = slope_test(np.log([tbfl[d] for d in members]), [gains[d] for d in members])
    except ValueError:
        test = None
    spread = {"contrast": f"{TBFL} - {FOCAL} (PSDS2) against ln(weights max / min)", "datasets": len(members),
              "estimate [95% CI]": "" if test is None else test.format(unit="unit"), "p": "" if test is None else f"{test.p_value:.3f}"}
    return pd.concat([short, pd.DataFrame([spread])], ignore_index=True)


def h2_datasets(runs: pd.DataFrame) -> pd.DataFrame:
    """Descriptive: each H2 dataset's world, the k TBFL chose and its class weights' range and spread (largest / smallest;
    the protocol expects the flat world's within 1 +- 0.1),
    and seed 1's PSDS2 of the focal loss and TBFL with their difference (what the slopes and the figure read)."""
    seed1 = runs[(runs["seed"] == 1) & runs["plateau"].astype(bool)]
    worlds = {"paper": PAPER, **H2_WORLDS}
    rows = []
    for world, datasets in worlds.items():
        for dataset in datasets:
            name = DatasetName.parse(dataset)
            here = seed1[seed1["dataset"] == dataset].set_index("configuration")
            tbfl = here.loc[TBFL] if TBFL in here.index else None
            psds2 = {config: f"{here.loc[config, 'psds2']:.3f}" if config in here.index else "" for config in (FOCAL, TBFL)}
            rows.append({
                "world": world, "dataset": dataset, "duration spread": name.d, "volume spread": name.v,
                "k chosen": "" if tbfl is None else f"{tbfl['k']:g}",
                "weights min-max": "" if tbfl is None else f"{min(tbfl['class_weights'].values()):.2f}-{max(tbfl['class_weights'].values()):.2f}",
                "weights max / min": "" if tbfl is None else f"{tbfl['weight_ratio']:.2f}",
                f"PSDS2 {FOCAL}": psds2[FOCAL], f"PSDS2 {TBFL}": psds2[TBFL],
                "difference": f"{here.loc[TBFL, 'psds2'] - here.loc[FOCAL, 'psds2']:+.3f}" if "" not in psds2.values() else "",
            })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class H3Result:
    """H3's tables and readings (see :func:`h3`).

    ``moves``: per V_c scale and target, the k each dataset's run chose and PSDS2, their means, and the best target;
    ``best_k``: scale -> the mean k chosen by that scale's best target (absent until all its runs count);
    ``moves_reading``: ``yes`` / ``no`` (is ``best_k`` larger at scale 1.0 than at 0.25?) or ``pending``;
    ``auto``: the 4 contrasts ``other target - target 1`` on PSDS2 (Holm over 4), verdicts on "above target 1";
    ``auto_verdict``: "auto lands within the best k's interval": ``confirmed`` (no other target confirmed above
    target 1), ``refuted`` (one is) or ``pending``.
    """

    moves: pd.DataFrame
    best_k: dict[float, float]
    moves_reading: str
    auto: pd.DataFrame
    auto_verdict: str


def _per_dataset(values: dict[str, float], digits: int) -> str:
    """``201: 250, 202: 270``: each dataset by its generator seed."""
    return ", ".join(f"{DatasetName.parse(d).seed}: {v:.{digits}f}" for d, v in values.items())


def h3(runs: pd.DataFrame) -> H3Result:
    """H3: ``k: auto`` across V_c scales, on seed 1 of TBFL at targets 0.25, 1 and 4 at scales 0.25 and 1.0.

    H3-moves (descriptive, no test): at each scale the target with the highest mean PSDS2 over the scale's 2 datasets,
    and whether the k it chose (its mean over those datasets, read from ``class_weights.json``) is larger at scale
    1.0 than at 0.25. H3-auto: ``other target - target 1`` on PSDS2 over each scale's 2 datasets, 4 contrasts, Holm
    over 4; "auto lands within the best k's interval" is confirmed when no other target is confirmed above target 1,
    refuted when one is. Both read ``pending`` until the 10 H3 runs and the 2 reused H1 runs are all archived (a
    capped run keeps its dataset out, so its contrast stays pending).
    """
    expected = set().union(*(_expected(datasets, tuple(H3_TARGETS.values()), (1,)) for datasets in H3_SCALES.values()))
    complete, _ = _complete(runs, expected)
    counted = runs[(runs["seed"] == 1) & runs["plateau"].astype(bool)]
    rows, best_k, contrasts = [], {}, []
    for scale, datasets in H3_SCALES.items():
        found = {}
        for target, config in H3_TARGETS.items():
            here = counted[(counted["configuration"] == config) & counted["dataset"].isin(datasets)]
            here = here.set_index("dataset").reindex([d for d in datasets if d in set(here["dataset"])])
            psds2 = {d: float(v) for d, v in here["psds2"].items()}
            k = {d: float(v) for d, v in pd.to_numeric(here["k"], errors="coerce").items()}
            found[target] = (psds2, k)
            rows.append({"V_c scale": f"{scale:g}", "target": f"{target:g}", "configuration": config, "datasets": len(psds2),
                         "k chosen (per dataset)": _per_dataset(k, 0), "mean k": f"{np.mean(list(k.values())):g}" if k else "",
                         "PSDS2 (per dataset)": _per_dataset(psds2, 3),
                         "mean PSDS2": f"{np.mean(list(psds2.values())):.3f}" if psds2 else "", "best at this scale": ""})
        if all(len(psds2) == len(datasets) for psds2, _ in found.values()):
            best = max(found, key=lambda t: np.mean(list(found[t][0].values())))  # ties: the first in H3_TARGETS' order
            best_k[scale] = float(np.mean(list(found[best][1].values())))
            rows[len(rows) - len(H3_TARGETS) + list(H3_TARGETS).index(best)]["best at this scale"] = "best"
        for target, config in H3_TARGETS.items():
            if target != 1.0:
                contrasts.append((f"scale {scale:g}: target {target:g} - target 1 ({config} - {TBFL}): PSDS2",
                                  dataset_differences(counted, config, TBFL, "psds2", datasets)))
    moves_reading = "pending"
    if complete and len(best_k) == len(H3_SCALES):
        moves_reading = "yes" if best_k[1.0] > best_k[0.25] else "no"
    auto = _over_datasets(contrasts, complete)
    verdicts = set(auto["verdict"])
    auto_verdict = "pending" if "pending" in verdicts else ("refuted" if "confirmed" in verdicts else "confirmed")
    return H3Result(pd.DataFrame(rows), best_k, moves_reading, auto, auto_verdict)


def _h3_sections(result: H3Result) -> list[str]:
    """H3's part of the report: the moves table and its reading, the 4 contrasts and the overall verdict."""
    if result.moves_reading == "pending":
        moves = "pending (read once every H3 run has finished)"
    else:
        moves = (f"the best target's mean k is {result.best_k[1.0]:g} at scale 1.0 and {result.best_k[0.25]:g} at scale 0.25: "
                 f"larger at scale 1.0: **{result.moves_reading}**")
    return [
        "## H3: k: auto across V_c scales (a weak test: 2 datasets per scale, 1 degree of freedom)",
        "Seed 1 of TBFL with `k: auto` at targets 0.25, 1 and 4 (k about auto/4, auto, 4 auto; the k each run chose is "
        "read from its `class_weights.json`) on datasets 201, 202 (V_c scale 0.25; target 1 is H1's seed-1 TBFL run) and "
        "401, 402 (scale 1.0). PSDS2 per dataset and its mean over the scale's 2 datasets.",
        markdown_table(result.moves, 3),
        f"H3-moves (descriptive, no test): {moves}.",
        "H3-auto: each other target - target 1 on PSDS2 over the scale's 2 datasets, Holm over these 4 contrasts. "
        "A row's verdict reads on \"this target above target 1\". With 1 degree of freedom (t = 12.7 for a 95% interval) a "
        "row is confirmed only when its 2 datasets' differences agree to within about 4% of their mean (Holm p < 0.05 "
        "needs p < 0.0125 at best, t > 51), so \"confirmed\" below means that no other target was shown above target 1, "
        "not that the targets are equal.",
        markdown_table(result.auto, 3),
        f"H3-auto, \"auto lands within the best k's interval\" (confirmed when no other target is confirmed above "
        f"target 1, refuted when one is): **{result.auto_verdict}**.",
    ]


def h4(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """H4: the league table (mean [95% CI] over datasets per loss and metric, mean rank on PSDS2) and each loss -
    TBFL on PSDS2 (Holm over 6), on seed 1 of paper-world datasets 201-203."""
    datasets = PAPER[:3]
    complete, _ = _complete(runs, _expected(datasets, LEAGUE, (1,)))
    seed1 = runs[(runs["seed"] == 1) & runs["plateau"] & runs["dataset"].isin(datasets)]
    ranks = seed1.pivot_table(index="dataset", columns="configuration", values="psds2").rank(axis=1, ascending=False).mean()
    league = []
    for config in LEAGUE:
        rows = seed1[seed1["configuration"] == config]
        entry = {"loss": config, "datasets": len(rows), "mean rank (PSDS2)": f"{ranks[config]:.2f}" if config in ranks else ""}
        for metric, label in METRICS.items():
            values = dict(zip(rows["dataset"], rows[metric]))
            entry[label] = paired_difference(values, {k: 0.0 for k in values}).format(unit=UNIT) if values else ""
        league.append(entry)
    contrasts = [(f"{config} - {TBFL}: PSDS2", dataset_differences(seed1, config, TBFL, "psds2", datasets)) for config in LEAGUE if config != TBFL]
    return pd.DataFrame(league), _over_datasets(contrasts, complete)


def h4_per_class(runs: pd.DataFrame) -> pd.DataFrame:
    """H4 per class (descriptive): each class's mean event length and, per loss of the league, its event-F1 at the
    synthetic-validation threshold averaged over the datasets it has (seed 1, datasets 201-203, plateau runs)."""
    seed1 = runs[(runs["seed"] == 1) & runs["plateau"] & runs["dataset"].isin(PAPER[:3])]
    classes = sorted({c for per_class in seed1["per_class"] for c in per_class})
    durations_s = {c: float(np.mean([d[c] for d in seed1["event_duration_s"] if c in d])) for c in classes}
    table = []
    for c in classes:
        entry = {"class": c, "mean event (s)": f"{durations_s[c]:.1f}"}
        for config in LEAGUE:
            values = [p[c] for p in seed1.loc[seed1["configuration"] == config, "per_class"] if c in p]
            entry[config] = f"{np.mean(values):.3f}" if values else ""
        table.append(entry)
    return pd.DataFrame(table)


def _per_class_differences(runs: pd.DataFrame, a: str, b: str, datasets: Sequence[str]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Class -> (dataset -> ``a - b`` of its event-F1 at the synthetic-validation threshold), and class -> its mean
    weight over the runs of ``a`` (empty for an unweighted ``a``)."""
    counted = runs[runs["plateau"] & runs["dataset"].isin(datasets)]
    classes = sorted({c for per_class in counted["per_class"] for c in per_class})
    expanded = counted.assign(**{f"class:{c}": [p.get(c, np.nan) for p in counted["per_class"]] for c in classes})
    weighted = [w for w in counted.loc[counted["configuration"] == a, "class_weights"] if w]
    differences = {c: dataset_differences(expanded, a, b, f"class:{c}", datasets) for c in classes}
    return differences, ({c: float(np.mean([w[c] for w in weighted])) for c in classes} if weighted else {})


def per_class_table(runs: pd.DataFrame, a: str, b: str, datasets: Sequence[str]) -> pd.DataFrame:
    """Exploratory: ``a - b`` of each class's event-F1 (synthetic-validation threshold), mean [95% CI] over datasets,
    and the class's mean weight in ``a`` (blank for an unweighted ``a``)."""
    differences, weights = _per_class_differences(runs, a, b, datasets)
    return pd.DataFrame([
        {"class": c, f"w_c of {a}": f"{weights[c]:.2f}" if weights else "", "datasets": len(values),
         "mean [95% CI]": paired_difference(values, {k: 0.0 for k in values}).format(unit=UNIT) if values else ""}
        for c, values in differences.items()
    ])


def class_gain_against_weight(runs: pd.DataFrame, a: str, b: str, datasets: Sequence[str]) -> str:
    """Exploratory, one sentence: the slope of each class's mean ``a - b`` event-F1 difference over ``datasets``
    against ln of its mean weight in ``a``, over the classes (C - 2 degrees of freedom); empty until computable."""
    differences, weights = _per_class_differences(runs, a, b, datasets)
    gains = {c: float(np.mean(list(values.values()))) for c, values in differences.items() if values}
    if not weights or len(gains) < 3:
        return ""
    test = slope_test([np.log(weights[c]) for c in gains], list(gains.values()))
    return (f"Over the {test.n} classes, a class's mean difference against ln of its mean weight: "
            f"{test.format(unit='unit of ln w_c')}, p {test.p_value:.3f} (exploratory; the classes are the units).")


def progress_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per block of the protocol: runs finished of planned, and how many stopped on the plateau rule."""
    blocks = {
        "H1": _expected(PAPER, (BCE, TBFL), (1, 2)),
        "H2": _expected(PAPER, (FOCAL,), (1,)) | _expected(H2_WORLD_DATASETS, (FOCAL, TBFL), (1,)),
        "H4": _expected(PAPER[:3], (CBFL, "asl", "labce", "owbce"), (1,)),
        "H3": _expected(PAPER[:2], (H3_TARGETS[0.25], H3_TARGETS[4.0]), (1,)) | _expected(("d1v1s1-401", "d1v1s1-402"), tuple(H3_TARGETS.values()), (1,)),
    }
    finished = set(runs["run"]) if len(runs) else set()
    plateau = set(runs.loc[runs["plateau"], "run"]) if len(runs) else set()
    return pd.DataFrame([{"block": block, "planned runs": len(expected), "finished": len(expected & finished),
                          "stopped on the plateau rule": len(expected & plateau)} for block, expected in blocks.items()])


def gains_by_level(runs: pd.DataFrame, metric: str = "psds2") -> dict[str, dict[int, list[float]]]:
    """Per axis (``duration``, ``volume``) and spread level, the per-dataset TBFL - focal gains (seed 1)."""
    all_datasets = sorted(set(runs["dataset"])) if len(runs) else []
    gains = dataset_differences(runs[runs["seed"] == 1], TBFL, FOCAL, metric, all_datasets) if len(runs) else {}
    by_axis: dict[str, dict[int, list[float]]] = {"duration": {}, "volume": {}}
    for dataset, gain in gains.items():
        name = DatasetName.parse(dataset)
        if name.scale != 0.25:
            continue
        if name.v == 1:
            by_axis["duration"].setdefault(name.d, []).append(gain)
        if name.d == 1:
            by_axis["volume"].setdefault(name.v, []).append(gain)
    return by_axis


def learning_curves(runs: pd.DataFrame, configurations: Mapping[str, Configuration]) -> dict[str, list[np.ndarray]]:
    """Configuration (``bce``, ``tbfl_kauto_g2``, ...) -> one (n_epochs, 2) array (student, teacher validation
    objective) per run of it, every dataset and seed (:func:`~tbfl.experiments.tables.learning_curves` of each
    dataset's configuration in ``configurations``, the archive grouped by :func:`load_configurations`)."""
    curves: dict[str, list[np.ndarray]] = {}
    for dataset, configuration in dict.fromkeys(zip(runs["dataset"], runs["configuration"])):
        curves.setdefault(configuration, []).extend(configuration_learning_curves(configurations[f"{dataset}-{configuration}"]))
    return {name: arrays for name, arrays in curves.items() if arrays}


def write_report(runs_dir: str | Path, out_dir: str | Path, *, commit: str | None = None) -> Path:
    """``report.md`` (progress, H1 and its exploratory metrics, H2, H3, H4, the exploratory per-class table and the learning curves), ``runs.csv``,
    ``figures/gain_vs_imbalance.png`` and ``figures/learning_curves.png`` from the archive ``runs_dir``; returns the Markdown path."""
    out_dir = Path(out_dir)
    runs = load_runs(runs_dir)
    configurations = load_configurations(runs_dir) if len(runs) else {}
    if len(runs):
        atomic_write_text(out_dir / "runs.csv", runs_table(configurations).to_csv(index=False, float_format="%.4f"))
    figure = plot_gain_against_level(gains_by_level(runs), ylabel=f"{TBFL} - {FOCAL}: PSDS2", out_png=out_dir / "figures" / "gain_vs_imbalance.png")
    league, against_tbfl = h4(runs)
    sections = [
        "# Study 2: report",
        f"Built by `tbfl report --study2` from {len(runs)} archived runs"
        + (f", trained by commit `{commit}`" if commit else "") + ". The protocol, with every rule used here: [protocol.md](protocol.md). "
        "Verdicts are computed only on complete blocks; until then they read `pending`.",
        "## Progress", markdown_table(progress_table(runs), 3),
        "## H1 (primary): TBFL (k: auto) against BCE, paper world", markdown_table(h1(runs), 3),
        "Exploratory (not in H1's family; p not adjusted):", markdown_table(h1_exploratory(runs), 3),
        "## H2: TBFL's gain over the focal loss against the imbalance", markdown_table(h2(runs), 3),
        f"![gain against imbalance]({figure.relative_to(out_dir).as_posix()})",
        "Exploratory (not in H2's family; p not adjusted). Short-event F1 is undefined where no class's mean event is "
        f"shorter than {SHORT_EVENT_S:g} s (the flat and duration-flat worlds, whose events all last about 4 s); those "
        "datasets are left out of its rows.", markdown_table(h2_exploratory(runs), 3),
        "Per dataset (descriptive; seed 1):", markdown_table(h2_datasets(runs), 3),
        *_h3_sections(h3(runs)),
        "## H4: the league table (seed 1, datasets 201-203)", markdown_table(league, 3),
        markdown_table(against_tbfl, 3),
        "Each contrast is the other loss - TBFL, read by the protocol's rules in the direction \"the other loss scores "
        "higher\": `confirmed` means it did (Holm p < 0.05 over the 6); `refuted` means the 95% interval lies below 0 "
        "(TBFL higher) or inside (-0.02, +0.02).",
        *_h4_per_class_sections(h4_per_class(runs)),
        "## Exploratory: per class, TBFL - BCE over the paper world's datasets", markdown_table(per_class_table(runs, TBFL, BCE, PAPER), 3),
        class_gain_against_weight(runs, TBFL, BCE, PAPER),
        *_learning_curve_sections(learning_curves(runs, configurations), out_dir),
    ]
    report = out_dir / "report.md"
    atomic_write_text(report, "\n\n".join(section for section in sections if section) + "\n")
    return report


def _h4_per_class_sections(table: pd.DataFrame) -> list[str]:
    """H4's per-class table with its caption (none before the first league run)."""
    if not len(table):
        return []
    return ["Per class (descriptive): event-F1 at the synthetic-validation threshold, the mean over the datasets each loss has.",
            markdown_table(table, 3)]


def _learning_curve_sections(curves: dict[str, list[np.ndarray]], out_dir: Path) -> list[str]:
    """The learning-curves section: the figure of every configuration's runs (none before the first run)."""
    if not curves:
        return []
    figure = figure_learning_curves(curves, out_dir / "figures" / "learning_curves.png", unit="run")
    return ["## Learning curves",
            "Validation objective (weak F1 + synthetic intersection-F1) per epoch of each configuration's runs, every "
            "dataset and seed together: the mean and the min-max band; a tick marks where each run stopped.",
            f"![learning curves]({figure.relative_to(out_dir).as_posix()})"]
