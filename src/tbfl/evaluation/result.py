"""The result of one evaluation: every metric, its JSON form and its table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tbfl.evaluation.metrics.error_rate import ErrorRate
from tbfl.evaluation.metrics.fscore import FScore, FScoreSweep
from tbfl.evaluation.metrics.intersection_based import Psds
from tbfl.evaluation.metrics.items import ItemMetrics
from tbfl.evaluation.settings import EvaluationSettings


@dataclass(frozen=True)
class EvaluationResult:
    """Every metric of one evaluation.

    ``psds1``/``psds2`` use the fixed operating points (psds_eval, as the
    DCASE 2021 baseline and the paper); the ``*_threshold_free`` values use
    all of them (sed_scores_eval). ``event_f1`` is at ``settings.f1_threshold``,
    ``event_f1_best`` at the best single threshold of the sweep,
    ``event_f1_best_per_class`` at each class's best threshold (chosen on the
    evaluated clips themselves, an upper bound), ``event_f1_tuned_thresholds``
    at per-class thresholds tuned on another set (``settings.per_class_thresholds``;
    None when there are none).
    ``confidence_intervals`` maps a metric to (bootstrap mean, 2.5 %, 97.5 %)
    when ``settings.bootstrap`` resamples were drawn (PSDS, intersection F1, event F1 at 0.5 and best,
    and the metrics below; piPSDS with ``settings.pipsds_intervals``).
    ``collar_error_rate`` and ``intersection_error_rate`` are at ``settings.f1_threshold`` (sed_scores_eval's
    per-class (FP + FN) / N_ref, macro); ``clip_based`` (tagging) and ``segment_based`` (with
    ``settings.segment_length_s``) hold F1 and error rate at that threshold and the AUROC (partial up to
    ``settings.auroc_max_fpr``); None where not computed.
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
    confidence_intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    event_f1_tuned_thresholds: FScore | None = None
    collar_error_rate: ErrorRate | None = None
    intersection_error_rate: ErrorRate | None = None
    clip_based: ItemMetrics | None = None
    segment_based: ItemMetrics | None = None
    pipsds1: Psds | None = None
    pipsds2: Psds | None = None
    #: Metric -> (settings.bootstrap,) its value on each clip resample (the draws of ``settings.bootstrap_seed``:
    #: two results of the same clips and seed are paired). Not written by :meth:`to_dict`.
    resampled_values: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def more_metrics(self) -> dict[str, float | None]:
        """Macro values of the error rates and item-based families that were computed (NaN as None)."""
        values: dict[str, float | None] = {}
        for name in ("pipsds1", "pipsds2"):
            if getattr(self, name) is not None:
                values[name] = getattr(self, name).value
        for name in ("collar_error_rate", "intersection_error_rate"):
            rate = getattr(self, name)
            if rate is not None:
                values[name] = _finite(rate.error_rate_macro)
        for family in ("clip", "segment"):
            metrics = getattr(self, f"{family}_based")
            if metrics is not None:
                values[f"{family}_f1"] = metrics.fscore.f1_macro
                values[f"{family}_error_rate"] = _finite(metrics.error_rate.error_rate_macro)
                values[f"{family}_auroc"] = _finite(metrics.auroc.mean)
        return values

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
            **({} if self.event_f1_tuned_thresholds is None else {
                "event_f1_tuned_thresholds": self.event_f1_tuned_thresholds.f1_macro}),
            **self.more_metrics(),
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
                **({} if self.event_f1_tuned_thresholds is None else {
                    "event_f1_tuned_thresholds": self.event_f1_tuned_thresholds.to_dict()}),
                **{name: getattr(self, name).to_dict() for name in (
                    "collar_error_rate", "intersection_error_rate", "clip_based", "segment_based", "pipsds1", "pipsds2")
                   if getattr(self, name) is not None},
            },
            "settings": self.settings.to_dict(),
            **({"confidence_intervals": {
                name: {"mean": _finite(mean), "low": _finite(low), "high": _finite(high)}
                for name, (mean, low, high) in self.confidence_intervals.items()
            }} if self.confidence_intervals else {}),
        }

    def format_table(self) -> str:
        """A plain-text table: per-class and macro values, then the best threshold and threshold-free PSDS."""
        s = self.settings
        tuned = self.event_f1_tuned_thresholds
        header = (
            f"{'class':<28} {'event F1':>9} {'best':>7} {'at':>5} "
            + ("" if tuned is None else f"{'tuned':>7} {'at':>5} ")
            + f"{'inter F1':>9} {'PSDS1':>7} {'PSDS2':>7}"
        )
        lines = [
            f"{self.n_clips} clips, {self.n_events} reference events; {_postprocessing(s)}; "
            f"F1 at threshold {s.f1_threshold:g}; PSDS from {len(s.thresholds)} thresholds",
            header,
            "-" * len(header),
        ]
        best = self.event_f1_best_per_class
        for c, name in enumerate(s.classes):
            lines.append(
                f"{name:<28} {self.event_f1.f1[c]:>9.3f} {best.f1[c]:>7.3f} {best.thresholds[c]:>5.2f} "
                + ("" if tuned is None else f"{tuned.f1[c]:>7.3f} {tuned.thresholds[c]:>5.2f} ")
                + f"{self.intersection_f1.f1[c]:>9.3f} {self.psds1.per_class[c]:>7.3f} {self.psds2.per_class[c]:>7.3f}"
            )
        lines += [
            "-" * len(header),
            f"{'macro':<28} {self.event_f1.f1_macro:>9.3f} {best.f1_macro:>7.3f} {'':>5} "
            + ("" if tuned is None else f"{tuned.f1_macro:>7.3f} {'':>5} ")
            + f"{self.intersection_f1.f1_macro:>9.3f} {self.psds1.value:>7.3f} {self.psds2.value:>7.3f}",
            f"best single threshold: event F1 {self.event_f1_best.f1_macro:.3f} at {self.event_f1_best.thresholds[0]:g}",
            *([] if tuned is None else [f"tuned per-class thresholds (event_f1_tuned_thresholds): event F1 {tuned.f1_macro:.3f}"]),
            f"threshold-free: PSDS1 {self.psds1_threshold_free.value:.3f}, PSDS2 {self.psds2_threshold_free.value:.3f}",
        ]
        lines += self._more_table()
        if self.confidence_intervals:
            lines += self._interval_table()
        return "\n".join(lines)

    def _interval_table(self) -> list[str]:
        """Each metric's value, its 95 % percentile interval and the bootstrap mean; a mark where the interval
        misses the value (resampling biases the metric there, docs/evaluation-metrics.md)."""
        values = {key: value for key, value in self.to_dict().items() if isinstance(value, float)}
        lines = [f"95% intervals over {self.settings.bootstrap} clip resamples: value [2.5%, 97.5%] (bootstrap mean)"]
        missed = False
        for name, (mean, low, high) in self.confidence_intervals.items():
            value = values.get(name)
            outside = value is not None and not low <= value <= high
            missed |= outside
            lines.append(f"  {name:<24} {'-' if value is None else format(value, '.3f'):>6} [{low:.3f}, {high:.3f}] "
                         f"(mean {mean:.3f})" + (" *" if outside else ""))
        if missed:
            lines.append("  * the interval misses the value: resampling biases this metric on these clips (or the resamples are too few); "
                         "see 'Bootstrap bias' in docs/evaluation-metrics.md")
        return lines

    def _more_table(self) -> list[str]:
        """Per class: error rates at the F1 threshold, clip- and segment-based F1, ER and AUROC (where computed)."""
        columns = []  # (header, per-class values, macro value)
        for name, header in (("pipsds1", "piPSDS1"), ("pipsds2", "piPSDS2")):
            if getattr(self, name) is not None:
                columns.append((header, getattr(self, name).per_class, getattr(self, name).value))
        for name, header in (("collar_error_rate", "event ER"), ("intersection_error_rate", "inter ER")):
            rate = getattr(self, name)
            if rate is not None:
                columns.append((header, rate.error_rate, rate.error_rate_macro))
        for family in ("clip", "segment"):
            metrics = getattr(self, f"{family}_based")
            if metrics is not None:
                columns += [(f"{family[:3]} F1", metrics.fscore.f1, metrics.fscore.f1_macro),
                            (f"{family[:3]} ER", metrics.error_rate.error_rate, metrics.error_rate.error_rate_macro),
                            (f"{family[:3]} AUC", metrics.auroc.per_class, metrics.auroc.mean)]
        if not columns:
            return []
        s = self.settings
        header = f"{'class':<28} " + " ".join(f"{h:>8}" for h, _, _ in columns)
        notes = [f"error rates and item F1 at threshold {s.f1_threshold:g}",
                 *([] if self.segment_based is None else [f"segments of {s.segment_length_s:g} s"]),
                 "AUC: " + ("full AUROC" if s.auroc_max_fpr is None else f"partial AUROC up to FPR {s.auroc_max_fpr:g}"),
                 *([] if s.pipsds_filters_s is None else [
                     f"piPSDS over median filters {', '.join(f'{x:g}' for x in s.pipsds_filters_s)} s"])]
        lines = ["", "; ".join(notes), header, "-" * len(header)]
        for c, name in enumerate(s.classes):
            lines.append(f"{name:<28} " + " ".join(f"{values[c]:>8.3f}" for _, values, _ in columns))
        lines += ["-" * len(header), f"{'macro':<28} " + " ".join(f"{macro:>8.3f}" for _, _, macro in columns)]
        return lines


def _finite(value: float) -> float | None:
    return None if value != value else float(value)


def _postprocessing(s: EvaluationSettings) -> str:
    """One phrase naming the post-processing of ``s``."""
    if s.median_filter_frames_per_class is None:
        return f"median filter {s.median_filter_frames} frames ({s.median_filter_frames * s.frame_hop_s:.3f} s)"
    filters = f"tuned median filters {list(s.median_filter_frames_per_class)} frames per class"
    if s.sebb is None:
        return filters
    return (f"SEBBs after {filters}: step filters {[p.step_filter_frames for p in s.sebb]} frames, merge thresholds "
            f"abs {[p.merge_threshold_abs for p in s.sebb]} rel {[p.merge_threshold_rel for p in s.sebb]}, "
            f"confidence {'/'.join(sorted({p.confidence for p in s.sebb}))}")
