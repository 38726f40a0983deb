"""PSDS from detections given as event lists, one per operating point (psds_eval's input).

Detections of operating point ``k`` (thresholds ascending) become runs that
are alive at threshold ``k`` only (birth ``k + 1``, death ``k``), on a
per-clip grid of every detection boundary, so the intersection counts of
:mod:`~tbfl.evaluation.metrics.intersection_based` apply unchanged. The
detections of different operating points need not be nested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from tbfl.data.desed import read_durations_tsv, read_strong_tsv
from tbfl.io import visible_files
from tbfl.evaluation.metrics.detections import Intervals
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import Psds, intersection_curves, psds_at_thresholds
from tbfl.evaluation.scores import clip_id
from tbfl.evaluation.settings import PSDS1, PSDS2, PsdsSettings
from tbfl.evaluation.validation import check_durations, reference_events


def read_operating_points(path: str | Path, classes: tuple[str, ...]) -> dict[float, pd.DataFrame]:
    """threshold -> detections (filename, onset, offset, event_label) from a folder of ``<threshold>.tsv``
    files or one TSV with a ``threshold`` column."""
    path = Path(path)
    if path.is_dir():
        tables = {}
        for file in visible_files(path, (".tsv",)):
            try:
                threshold = float(file.stem)
            except ValueError:
                raise ValueError(f"{file}: an operating point file must be named <threshold>.tsv") from None
            tables[threshold] = _detections(file, classes)
        if not tables:
            raise ValueError(f"{path}: no <threshold>.tsv detection files")
        return dict(sorted(tables.items()))
    table = _read_tsv(path)
    if "threshold" not in table.columns:
        raise ValueError(f"{path}: a single detection TSV needs a 'threshold' column")
    threshold = pd.to_numeric(table["threshold"], errors="coerce")
    if threshold.isna().any():
        row = int(np.flatnonzero(threshold.isna())[0])
        raise ValueError(f"{path}, line {row + 2}: threshold {table['threshold'].iloc[row]!r} is not a number")
    tmp = {t: group.drop(columns="threshold") for t, group in table.assign(threshold=threshold).groupby("threshold")}
    return {float(t): _validated(group, classes, str(path), True).reset_index(drop=True) for t, group in sorted(tmp.items())}


def _read_tsv(file: Path) -> pd.DataFrame:
    """A detection TSV; an empty or unparsable file is a ValueError naming it."""
    try:
        return pd.read_csv(file, sep="\t", dtype={"filename": str, "event_label": str})
    except pd.errors.EmptyDataError:
        raise ValueError(f"{file}: empty file (a detection TSV needs the header filename, onset, offset, event_label)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{file}: not a tab-separated detection table ({error})") from None


def _detections(file: Path, classes) -> pd.DataFrame:
    return _validated(_read_tsv(file), classes, str(file), True)


def _line(index, in_file: bool) -> str:
    return f", line {index + 2}" if in_file else ""


def _validated(table: pd.DataFrame, classes, source: str, in_file: bool = False) -> pd.DataFrame:
    """Detections with a clip_id column; ValueError naming the source (and file line) of the first bad row.

    ``table``'s index is its file row (0 = line 2) when ``in_file``.
    """
    missing = {"filename", "onset", "offset", "event_label"} - set(table.columns)
    if missing:
        raise ValueError(f"{source}: missing column(s) {sorted(missing)}")
    onset = pd.to_numeric(table["onset"], errors="coerce").to_numpy(np.float64)
    offset = pd.to_numeric(table["offset"], errors="coerce").to_numpy(np.float64)
    bad = ~(np.isfinite(onset) & np.isfinite(offset) & (onset >= 0) & (offset > onset)) | ~table["event_label"].isin(classes)
    if bad.any():
        row = table.iloc[int(np.flatnonzero(bad)[0])]
        raise ValueError(f"{source}{_line(row.name, in_file)}: detection {row['filename']} [{row['onset']}, {row['offset']}] {row['event_label']!r} "
                         f"needs 0 <= onset < offset and a label among {list(classes)}")
    table = table.assign(onset=onset, offset=offset, clip_id=[clip_id(str(f)) for f in table["filename"]])
    ordered = table.sort_values(["clip_id", "event_label", "onset"], kind="stable")
    same_track = (ordered["clip_id"] == ordered["clip_id"].shift()) & (ordered["event_label"] == ordered["event_label"].shift())
    overlaps = same_track & (ordered["onset"] < ordered.groupby(["clip_id", "event_label"])["offset"].cummax().shift())
    if overlaps.any():
        row = ordered[overlaps].iloc[0]
        raise ValueError(f"{source}{_line(row.name, in_file)}: detection {row['filename']} [{row['onset']}, {row['offset']}] {row['event_label']!r} "
                         "overlaps an earlier detection of its class (psds_eval refuses these too)")
    return table


def operating_point_psds(
    detections: Mapping[float, pd.DataFrame],
    ground_truth,
    durations: Mapping[str, float],
    classes: tuple[str, ...],
    scenario: PsdsSettings,
    *,
    time_decimals: int = 6,
) -> Psds:
    """psds_eval's PSDS of ``detections`` (threshold -> event list) against ``ground_truth`` over ``durations``."""
    classes = tuple(classes)
    durations = {clip_id(str(name)): float(seconds) for name, seconds in durations.items()}
    check_durations(durations)
    events = reference_events(ground_truth, classes)
    clip_ids = tuple(sorted(durations))
    thresholds = sorted(detections)
    tables = [_validated(detections[t].reset_index(drop=True), classes, f"detections at {t:g}") for t in thresholds]
    detected = set().union(*(set(t["clip_id"]) for t in tables))
    unlisted = sorted((detected | set(events["clip_id"])) - set(clip_ids))
    if unlisted:
        raise ValueError(f"{len(unlisted)} clip(s) have detections or reference events but are not in the durations "
                         f"list ({', '.join(unlisted[:3])}{', ...' if len(unlisted) > 3 else ''})")
    intervals = _intervals(tables, clip_ids, classes)
    reference = GroundTruth.from_events(events, clip_ids, classes)
    curves = intersection_curves(
        intervals, reference, classes, dtc=scenario.dtc, gtc=scenario.gtc,
        cttc=scenario.cttc if scenario.alpha_ct > 0 else None, time_decimals=time_decimals,
    )
    return psds_at_thresholds(
        curves, np.arange(len(thresholds), dtype=np.float64), sum(durations.values()),
        alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr,
    )


def _intervals(tables: list[pd.DataFrame], clip_ids: tuple[str, ...], classes: tuple[str, ...]) -> Intervals:
    """Detections of operating point k as runs alive at threshold k only, on per-clip boundary grids."""
    both = pd.concat([t.assign(point=k) for k, t in enumerate(tables)], ignore_index=True)
    clip = pd.Index(clip_ids).get_indexer(both["clip_id"])
    label = pd.Index(classes).get_indexer(both["event_label"])
    onset_s, offset_s = both["onset"].to_numpy(), both["offset"].to_numpy()
    boundaries = [np.unique(np.concatenate([[0.0], onset_s[clip == i], offset_s[clip == i]])) for i in range(len(clip_ids))]
    width = max(len(b) for b in boundaries)
    times_s = np.array([np.pad(b, (0, width - len(b)), mode="edge") for b in boundaries]).reshape(len(clip_ids), width)
    on_frame = np.array([np.searchsorted(boundaries[c], t) for c, t in zip(clip, onset_s)], dtype=np.int64)
    off_frame = np.array([np.searchsorted(boundaries[c], t) for c, t in zip(clip, offset_s)], dtype=np.int64)
    point = both["point"].to_numpy(np.int64)
    levels = tuple(np.arange(len(tables) + 1, dtype=np.float64) for _ in classes)
    return Intervals(
        clip * len(classes) + label, on_frame, off_frame, (point + 1).astype(np.float64), point.astype(np.float64),
        point + 1, point, levels, len(classes), times_s,
    )


def operating_point_files_psds(
    detections_path: str | Path, ground_truth_tsv: str | Path, durations_tsv: str | Path, classes: tuple[str, ...],
) -> tuple[Psds, Psds]:
    """PSDS1 and PSDS2 of detection files (see :func:`read_operating_points`)."""
    detections = read_operating_points(detections_path, classes)
    ground_truth = read_strong_tsv(ground_truth_tsv, classes)
    durations = read_durations_tsv(durations_tsv)
    return tuple(operating_point_psds(detections, ground_truth, durations, classes, s) for s in (PSDS1, PSDS2))
