"""Tuned post-processing: a median filter length per class, picked on a tuning set.

:func:`tune_median_filters` evaluates every candidate length and keeps, per
class, the one with the highest per-class value of ``metric``. The parameters
store the tuning set's clip ids so that applying them to the same clips
(which inflates the scores) is refused unless explicitly allowed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from tbfl.evaluation.postprocess import median_filter
from tbfl.io import atomic_write_text

#: Candidate median filter lengths in seconds (0: no filter).
DEFAULT_CANDIDATES_S = (0.0, 0.15, 0.3, 0.45, 0.6, 0.9, 1.2)
#: Per-class metrics a length can be tuned for (keys of ``EvaluationResult.to_dict()["details"]``).
METRICS = ("psds1_threshold_free", "psds2_threshold_free", "psds1", "psds2", "event_f1_best_per_class", "intersection_f1")


@dataclass(frozen=True)
class PostprocessParams:
    """Per-class median filter lengths (frames, odd) and where they were tuned."""

    classes: tuple[str, ...]
    median_filter_frames: tuple[int, ...]
    frame_hop_s: float
    metric: str
    tuning_clips: tuple[str, ...]

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "PostprocessParams":
        try:
            data = json.loads(Path(path).read_text())
            params = cls(tuple(data["classes"]), tuple(int(n) for n in data["median_filter_frames"]),
                         float(data["frame_hop_s"]), str(data["metric"]), tuple(data["tuning_clips"]))
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: not a post-processing parameter file ({error})") from None
        if len(params.classes) != len(params.median_filter_frames) or any(n < 1 or n % 2 == 0 for n in params.median_filter_frames):
            raise ValueError(f"{path}: needs one odd median filter length >= 1 per class")
        return params

    def check_applicable(self, classes: Iterable[str], clips: Iterable[str], *, allow_tuning_set: bool) -> None:
        """ValueError when the classes differ or the evaluated clips overlap the tuning set (unless allowed)."""
        if tuple(classes) != self.classes:
            raise ValueError(f"post-processing parameters are for classes {list(self.classes)}, not {list(classes)}")
        shared = sorted(set(clips) & set(self.tuning_clips))
        if shared and not allow_tuning_set:
            raise ValueError(
                f"{len(shared)} evaluated clip(s) were used to tune the post-processing (e.g. {shared[0]}): "
                "tuning on the evaluation set inflates the scores; pass --allow-tuning-set to do it anyway"
            )


def median_filter_per_class(scores: Mapping[str, np.ndarray], frames: Iterable[int]) -> dict[str, np.ndarray]:
    """Each clip's (C, n_frames) scores with class c median-filtered over ``frames[c]`` frames."""
    frames = tuple(frames)
    return {clip: np.stack([median_filter(row, n) for row, n in zip(np.asarray(values, np.float64), frames)])
            for clip, values in scores.items()}


def tune_median_filters(
    scores: Mapping[str, np.ndarray], ground_truth, durations: Mapping[str, float], classes: tuple[str, ...],
    *, frame_hop_s: float, times_s: Mapping[str, np.ndarray] | None = None,
    candidates_s: Iterable[float] = DEFAULT_CANDIDATES_S, metric: str = "psds1_threshold_free",
) -> tuple[PostprocessParams, dict[float, dict[str, float]]]:
    """Per class, the candidate length with the highest per-class ``metric`` on this tuning set.

    Returns the parameters and, per candidate length (s), the per-class values.
    Ties go to the shorter filter.
    """
    from tbfl.evaluation.evaluate import evaluate_scores

    if metric not in METRICS:
        raise ValueError(f"unknown tuning metric {metric!r}; one of {', '.join(METRICS)}")
    candidates_s = sorted(set(float(c) for c in candidates_s))
    values, frames = {}, []
    for length_s in candidates_s:
        result = evaluate_scores(scores, ground_truth, durations, classes, frame_hop_s=frame_hop_s,
                                 median_filter_s=length_s, times_s=times_s)
        per_class = result.to_dict()["details"][metric]["per_class"]
        values[length_s] = {name: v["f1"] if isinstance(v, dict) else v for name, v in per_class.items()}
        frames.append(result.settings.median_filter_frames)
    table = np.array([[values[length_s][name] for name in classes] for length_s in candidates_s])
    best = table.argmax(axis=0)  # first maximum: the shortest filter
    params = PostprocessParams(tuple(classes), tuple(int(frames[i]) for i in best), float(frame_hop_s), metric,
                               tuple(sorted(str(c).removesuffix(".wav") for c in durations)))
    return params, values
