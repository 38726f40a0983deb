"""One call for every metric the recipe reports: :func:`evaluate_scores`.

Scores are median-filtered once; every metric then reads its thresholds off
the detection runs of :mod:`tbfl.evaluation.metrics.detections`. The
evaluation set is the durations list: every clip in it needs scores, and a
clip without reference events still counts its false alarms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from tbfl.constants import DESED_CLASSES, FRAME_HOP_S
from tbfl.data.desed import read_durations_tsv, read_strong_tsv
from tbfl.evaluation.metrics.collar_based import collar_counts
from tbfl.evaluation.metrics.detections import ScoreGrid, detection_intervals
from tbfl.evaluation.metrics.fscore import FScore, FScoreSweep
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.intersection_based import (
    Psds, intersection_curves, intersection_fscore, psds_at_thresholds, psds_threshold_free,
)
from tbfl.evaluation.postprocess import median_filter_clips, median_filter_frames
from tbfl.evaluation.scores import clip_id, frame_to_scores, read_scores

#: The DCASE 2021 baseline's 50 operating points 0.01, 0.03, ..., 0.99.
DEFAULT_THRESHOLDS = np.round(np.linspace(0.01, 0.99, 50), 2)


@dataclass(frozen=True)
class PsdsSettings:
    """One PSDS scenario (Bilen et al. 2020); eFPR is per hour."""

    dtc: float
    gtc: float
    cttc: float | None
    alpha_ct: float
    alpha_st: float
    max_efpr: float = 100.0

    def __post_init__(self) -> None:
        for name in ("dtc", "gtc", "cttc", "alpha_ct"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"PSDS {name} must be in [0, 1], got {value}")
        if self.alpha_ct > 0 and self.cttc is None:
            raise ValueError("PSDS alpha_ct > 0 needs a cttc (cross-trigger tolerance criterion)")
        if self.alpha_st < 0 or self.max_efpr <= 0:
            raise ValueError(f"PSDS needs alpha_st >= 0 and max_efpr > 0, got {self.alpha_st} and {self.max_efpr}")


PSDS1 = PsdsSettings(dtc=0.7, gtc=0.7, cttc=None, alpha_ct=0.0, alpha_st=1.0)
PSDS2 = PsdsSettings(dtc=0.1, gtc=0.1, cttc=0.3, alpha_ct=0.5, alpha_st=1.0)


@dataclass(frozen=True)
class EvaluationSettings:
    """Everything that decides the numbers; stored with every result."""

    classes: tuple[str, ...] = DESED_CLASSES
    frame_hop_s: float = FRAME_HOP_S
    median_filter_s: float = 0.45
    median_filter_frames: int = 7
    thresholds: tuple[float, ...] = tuple(DEFAULT_THRESHOLDS.tolist())
    f1_threshold: float = 0.5
    onset_collar_s: float = 0.2
    offset_collar_s: float = 0.2
    offset_collar_rate: float = 0.2
    intersection_dtc: float = 0.5
    intersection_gtc: float = 0.5
    intersection_cttc: float = 0.3
    psds1: PsdsSettings = PSDS1
    psds2: PsdsSettings = PSDS2
    time_decimals: int = 6

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "classes": list(self.classes), "thresholds": list(self.thresholds)}


@dataclass(frozen=True)
class EvaluationResult:
    """Every metric of one evaluation.

    ``psds1``/``psds2`` use the fixed operating points (psds_eval, as the
    DCASE 2021 baseline and the paper); the ``*_threshold_free`` values use
    all of them (sed_scores_eval). ``event_f1`` is at ``settings.f1_threshold``,
    ``event_f1_best`` at the best single threshold of the sweep,
    ``event_f1_best_per_class`` at each class's best threshold.
    """

    psds1: Psds
    psds2: Psds
    psds1_threshold_free: Psds
    psds2_threshold_free: Psds
    event_f1: FScore
    event_f1_best: FScore
    event_f1_best_per_class: FScore
    event_f1_sweep: FScoreSweep
    intersection_f1: FScore
    n_clips: int
    n_events: int
    settings: EvaluationSettings = field(default_factory=EvaluationSettings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dict of every value and the settings."""
        return {
            "psds1": self.psds1.value,
            "psds2": self.psds2.value,
            "psds1_threshold_free": self.psds1_threshold_free.value,
            "psds2_threshold_free": self.psds2_threshold_free.value,
            "event_f1": self.event_f1.f1_macro,
            "event_f1_best": self.event_f1_best.f1_macro,
            "event_f1_best_threshold": float(self.event_f1_best.thresholds[0]),
            "intersection_f1": self.intersection_f1.f1_macro,
            "n_clips": self.n_clips,
            "n_events": self.n_events,
            "details": {
                "psds1": self.psds1.to_dict(),
                "psds2": self.psds2.to_dict(),
                "psds1_threshold_free": self.psds1_threshold_free.to_dict(),
                "psds2_threshold_free": self.psds2_threshold_free.to_dict(),
                "event_f1": self.event_f1.to_dict(),
                "event_f1_best": self.event_f1_best.to_dict(),
                "event_f1_best_per_class": self.event_f1_best_per_class.to_dict(),
                "event_f1_sweep": {
                    "thresholds": self.event_f1_sweep.thresholds.tolist(),
                    "f1": self.event_f1_sweep.f1_macro().tolist(),
                },
                "intersection_f1": self.intersection_f1.to_dict(),
            },
            "settings": self.settings.to_dict(),
        }

    def format_table(self) -> str:
        """A plain-text table: per-class and macro values, then the best threshold and threshold-free PSDS."""
        s = self.settings
        header = (
            f"{'class':<28} {'event F1':>9} {'best':>7} {'at':>5} {'inter F1':>9} {'PSDS1':>7} {'PSDS2':>7}"
        )
        lines = [
            f"{self.n_clips} clips, {self.n_events} reference events; median filter {s.median_filter_frames} frames "
            f"({s.median_filter_frames * s.frame_hop_s:.3f} s); F1 at threshold {s.f1_threshold:g}; "
            f"PSDS from {len(s.thresholds)} thresholds",
            header,
            "-" * len(header),
        ]
        best = self.event_f1_best_per_class
        for c, name in enumerate(s.classes):
            lines.append(
                f"{name:<28} {self.event_f1.f1[c]:>9.3f} {best.f1[c]:>7.3f} {best.thresholds[c]:>5.2f} "
                f"{self.intersection_f1.f1[c]:>9.3f} {self.psds1.per_class[c]:>7.3f} {self.psds2.per_class[c]:>7.3f}"
            )
        lines += [
            "-" * len(header),
            f"{'macro':<28} {self.event_f1.f1_macro:>9.3f} {best.f1_macro:>7.3f} {'':>5} "
            f"{self.intersection_f1.f1_macro:>9.3f} {self.psds1.value:>7.3f} {self.psds2.value:>7.3f}",
            f"best single threshold: event F1 {self.event_f1_best.f1_macro:.3f} at {self.event_f1_best.thresholds[0]:g}",
            f"threshold-free: PSDS1 {self.psds1_threshold_free.value:.3f}, PSDS2 {self.psds2_threshold_free.value:.3f}",
        ]
        return "\n".join(lines)


def evaluate_scores(
    scores: Mapping[str, np.ndarray | pd.DataFrame],
    ground_truth: Any,
    durations: Mapping[str, float],
    classes: tuple[str, ...] = DESED_CLASSES,
    *,
    frame_hop_s: float = FRAME_HOP_S,
    median_filter_s: float = 0.45,
    thresholds: np.ndarray = DEFAULT_THRESHOLDS,
    f1_threshold: float = 0.5,
    psds1: PsdsSettings = PSDS1,
    psds2: PsdsSettings = PSDS2,
) -> EvaluationResult:
    """Post-process frame scores and compute PSDS1/2, event-based and intersection-based F1.

    Args:
        scores: clip id -> (C, n_frames) scores in ``classes`` order, or
            sed_scores_eval score tables (onset, offset, one column per class).
        ground_truth: a ``StrongLabels`` (``.events``) or a DataFrame with
            filename, onset, offset, event_label (seconds; filename with or
            without ``.wav``).
        durations: clip id or filename -> clip duration in seconds; the
            evaluation set. Detections starting at or after a clip's duration
            (padding) are ignored.
        classes: class order of the scores.
        frame_hop_s: seconds per frame.
        median_filter_s: median filter length, rounded to an odd number of
            frames by :func:`~tbfl.evaluation.postprocess.median_filter_frames`.
        thresholds: operating points of the event-F1 sweep and of ``psds1``/``psds2``.
        f1_threshold: threshold of ``event_f1`` and ``intersection_f1``.
    """
    classes = tuple(classes)
    thresholds = np.unique(np.asarray(thresholds, dtype=np.float64))
    durations = {clip_id(str(name)): float(seconds) for name, seconds in durations.items()}
    clip_ids = tuple(sorted(durations))
    _check_durations(durations)
    arrays = _score_arrays(scores, classes, frame_hop_s)
    events = _reference_events(ground_truth, classes)
    _check_clip_sets(set(arrays), set(events["clip_id"]) | _listed_clips(ground_truth), set(clip_ids))

    settings = EvaluationSettings(
        classes=classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s,
        median_filter_frames=median_filter_frames(median_filter_s, frame_hop_s),
        thresholds=tuple(thresholds.tolist()), f1_threshold=f1_threshold, psds1=psds1, psds2=psds2,
    )
    filtered = median_filter_clips(arrays, settings.median_filter_frames)
    grid = ScoreGrid.from_scores(filtered, clip_ids, frame_hop_s)
    duration_s = np.array([durations[c] for c in clip_ids])
    intervals = detection_intervals(grid, duration_s, time_decimals=settings.time_decimals)
    reference = GroundTruth.from_events(events, clip_ids, classes)
    overlap = reference.cumulative_overlap(grid.boundaries_s())

    swept = np.union1d(thresholds, [f1_threshold])
    sweep = collar_counts(
        intervals, reference, classes, swept, onset_collar_s=settings.onset_collar_s,
        offset_collar_s=settings.offset_collar_s, offset_collar_rate=settings.offset_collar_rate,
        time_decimals=settings.time_decimals,
    )
    on_grid = np.isin(swept, thresholds)
    grid_sweep = FScoreSweep(classes, swept[on_grid], sweep.tp[on_grid], sweep.n_sys[on_grid], sweep.n_ref)

    def curves(dtc, gtc, cttc):
        return intersection_curves(
            intervals, reference, overlap, classes, dtc=dtc, gtc=gtc, cttc=cttc, time_decimals=settings.time_decimals,
        )

    total_s = float(duration_s.sum())
    psds_values = []
    for scenario in (psds1, psds2):
        scenario_curves = curves(scenario.dtc, scenario.gtc, scenario.cttc if scenario.alpha_ct > 0 else None)
        options = dict(alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st, max_efpr=scenario.max_efpr)
        psds_values.append(psds_at_thresholds(scenario_curves, thresholds, total_s, **options))
        psds_values.append(psds_threshold_free(scenario_curves, total_s, **options))
    intersection = curves(settings.intersection_dtc, settings.intersection_gtc, None)
    return EvaluationResult(
        psds1=psds_values[0], psds1_threshold_free=psds_values[1],
        psds2=psds_values[2], psds2_threshold_free=psds_values[3],
        event_f1=sweep.at(sweep.index_of(f1_threshold)),
        event_f1_best=grid_sweep.best(),
        event_f1_best_per_class=grid_sweep.best_per_class(),
        event_f1_sweep=grid_sweep,
        intersection_f1=intersection_fscore(intersection, f1_threshold),
        n_clips=len(clip_ids), n_events=len(events), settings=settings,
    )


def evaluate_files(
    scores_dir: str | Path,
    ground_truth_tsv: str | Path,
    durations_tsv: str | Path,
    classes: tuple[str, ...] = DESED_CLASSES,
    *,
    median_filter_s: float = 0.45,
    progress: bool = False,
) -> EvaluationResult:
    """:func:`evaluate_scores` on a directory of ``<clip id>.tsv`` score files, a strong-label TSV and a durations TSV.

    The frame hop is read from the score files.
    """
    scores, frame_hop_s = read_scores(scores_dir, classes, progress=progress)
    ground_truth = read_strong_tsv(ground_truth_tsv, classes)
    durations = read_durations_tsv(durations_tsv)
    return evaluate_scores(scores, ground_truth, durations, classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s)


def _score_arrays(scores, classes, frame_hop_s) -> dict[str, np.ndarray]:
    """clip id -> validated (C, n_frames) float64 scores."""
    arrays = {}
    for name, clip_scores in scores.items():
        clip = clip_id(str(name))
        if isinstance(clip_scores, pd.DataFrame):
            clip_scores, hop_s = frame_to_scores(clip_scores, classes, source=f"scores of {clip}")
            if abs(hop_s - frame_hop_s) > 1e-6:
                raise ValueError(f"scores of {clip}: frame hop {hop_s:.6g} s, expected {frame_hop_s:.6g} s")
        clip_scores = np.asarray(clip_scores, dtype=np.float64)
        if clip_scores.ndim != 2 or clip_scores.shape[0] != len(classes) or clip_scores.shape[1] == 0:
            raise ValueError(f"scores of {clip}: expected shape (C={len(classes)}, n_frames), got {clip_scores.shape}")
        if not np.isfinite(clip_scores).all():
            label, frame = np.argwhere(~np.isfinite(clip_scores))[0]
            raise ValueError(f"scores of {clip}: {clip_scores[label, frame]} at frame {frame}, class {classes[label]!r}")
        arrays[clip] = clip_scores
    return arrays


def _reference_events(ground_truth, classes) -> pd.DataFrame:
    """Validated events with a ``clip_id`` column, rows without a label (clips without events) dropped."""
    events = getattr(ground_truth, "events", ground_truth)
    missing = {"filename", "onset", "offset", "event_label"} - set(events.columns)
    if missing:
        raise ValueError(f"ground truth lacks column(s) {sorted(missing)}")
    events = events[events["event_label"].notna() & (events["event_label"] != "")]
    events = events.assign(clip_id=[clip_id(str(f)) for f in events["filename"]])
    unknown = sorted(set(events["event_label"]) - set(classes))
    if unknown:
        raise ValueError(f"ground truth has labels {unknown} that are not among the classes {list(classes)}")
    onset = events["onset"].to_numpy(dtype=np.float64)
    offset = events["offset"].to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(onset) & np.isfinite(offset) & (onset >= 0) & (offset > onset))
    if bad.any():
        row = events.iloc[int(np.flatnonzero(bad)[0])]
        raise ValueError(f"ground truth event {row['filename']} [{row['onset']}, {row['offset']}] needs 0 <= onset < offset")
    return events.reset_index(drop=True)


def _listed_clips(ground_truth) -> set[str]:
    """Clips a ``StrongLabels`` lists, with or without events."""
    return {clip_id(str(f)) for f in getattr(ground_truth, "filenames", ())}


def _check_durations(durations: dict[str, float]) -> None:
    if not durations:
        raise ValueError("the durations list is empty: nothing to evaluate")
    bad = [name for name, seconds in durations.items() if not (np.isfinite(seconds) and seconds > 0)]
    if bad:
        raise ValueError(f"{len(bad)} clip duration(s) are not positive, e.g. {bad[0]}: {durations[bad[0]]}")


def _check_clip_sets(scored: set[str], annotated: set[str], evaluated: set[str]) -> None:
    problems = []
    for names, what in (
        (scored - evaluated, "have scores but are not in the durations list"),
        (evaluated - scored, "are in the durations list but have no scores"),
        (annotated - evaluated, "are in the ground truth but not in the durations list"),
    ):
        if names:
            shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
            problems.append(f"{len(names)} clip(s) {what} ({shown})")
    if problems:
        raise ValueError("; ".join(problems))
