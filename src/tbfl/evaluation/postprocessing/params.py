"""The post-processing parameter file (``params.json``) and its application to frame scores.

:class:`PostprocessParams` owns the file: per class a median filter length, optionally SEBB
settings and a decision threshold, the frame hop they were tuned on, and the tuning set's clip ids,
so that applying the parameters to the same clips (which inflates the scores) is refused unless
explicitly allowed. :func:`tuned_scores` is the one application of per-class post-processing, used by
the evaluation, detection and the tuning search (:mod:`~tbfl.evaluation.postprocessing.tuning`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from tbfl.evaluation.postprocessing.frames import median_filter, median_filter_clips
from tbfl.evaluation.postprocessing.sebb import SebbParams, sebb_scores
from tbfl.io import atomic_write_text


@dataclass(frozen=True)
class PostprocessParams:
    """Per-class post-processing and where it was tuned.

    ``median_filter_frames``: per class, odd (1: none); with ``sebb`` it smooths
    the scores before the SEBB step filter. ``sebb``: per class, SEBB
    hyper-parameters (None: plain frame thresholding). ``thresholds``: per
    class, a tuned decision threshold for the event F1 (None: not tuned).
    """

    classes: tuple[str, ...]
    median_filter_frames: tuple[int, ...]
    frame_hop_s: float
    metric: str
    tuning_clips: tuple[str, ...]
    sebb: tuple[SebbParams, ...] | None = None
    thresholds: tuple[float, ...] | None = None

    @property
    def method(self) -> str:
        """"median" (median filter, then thresholds on frames) or "sebb" (median filter, then SEBBs)."""
        return "median" if self.sebb is None else "sebb"

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        return {"method": self.method, **data, "sebb": None if self.sebb is None else [p.to_dict() for p in self.sebb]}

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "PostprocessParams":
        try:
            data = json.loads(Path(path).read_text())
            if not isinstance(data, dict):
                raise ValueError(f"the top level is a JSON {type(data).__name__}, not an object of settings")
            filters = data["median_filter_frames"]
            if not isinstance(filters, list) or any(not isinstance(n, int) or isinstance(n, bool) for n in filters):
                raise ValueError(f"median_filter_frames must be a list of integers (frames), got {filters!r}")
            sebb, thresholds = data.get("sebb"), data.get("thresholds")
            params = cls(
                tuple(data["classes"]), tuple(filters),
                float(data["frame_hop_s"]), str(data["metric"]), tuple(data["tuning_clips"]),
                sebb=None if sebb is None else tuple(SebbParams.from_dict(p) for p in sebb),
                thresholds=None if thresholds is None else tuple(float(t) for t in thresholds),
            )
            if data.get("method", params.method) != params.method:
                raise ValueError(f"method {data['method']!r} does not match the stored settings")
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: not a post-processing parameter file ({error})") from None
        n_classes = len(params.classes)
        if len(params.median_filter_frames) != n_classes or any(n < 1 or n % 2 == 0 for n in params.median_filter_frames):
            raise ValueError(f"{path}: needs one odd median filter length >= 1 per class")
        if params.sebb is not None and len(params.sebb) != n_classes:
            raise ValueError(f"{path}: needs one set of SEBB parameters per class, got {len(params.sebb)} for {n_classes} classes")
        if params.thresholds is not None and (len(params.thresholds) != n_classes
                                              or not all(0 <= t < 1 for t in params.thresholds)):
            raise ValueError(f"{path}: needs one threshold in [0, 1) per class")
        return params

    def apply(self, scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each clip's (C, n_frames) scores after this post-processing (:func:`tuned_scores`); threshold them
        at ``thresholds`` (when tuned) for the detections."""
        return tuned_scores(scores, self.median_filter_frames, self.sebb)

    def check_applicable(self, classes: Iterable[str], clips: Iterable[str], *, allow_tuning_set: bool,
                         frame_hop_s: float | None = None) -> None:
        """ValueError when the classes or the frame hop differ, or the evaluated clips overlap the tuning set (unless allowed)."""
        if tuple(classes) != self.classes:
            raise ValueError(f"post-processing parameters are for classes {list(self.classes)}, not {list(classes)}")
        if frame_hop_s is not None and not np.isclose(frame_hop_s, self.frame_hop_s, rtol=1e-6, atol=0):
            raise ValueError(f"post-processing parameters were tuned on frames of {self.frame_hop_s:g} s, not "
                             f"{frame_hop_s:g} s: their lengths in frames would mean other durations")
        shared = sorted(set(clips) & set(self.tuning_clips))
        if shared and not allow_tuning_set:
            raise ValueError(
                f"{len(shared)} evaluated clip(s) were used to tune the post-processing (e.g. {shared[0]}): "
                "tuning on the evaluation set inflates the scores; pass --allow-tuning-set to do it anyway"
            )


def median_filter_per_class(scores: Mapping[str, np.ndarray], frames: Iterable[int]) -> dict[str, np.ndarray]:
    """Each clip's (C, n_frames) scores (float64) with class c median-filtered over ``frames[c]`` frames.

    One length for every class is filtered in one batch per clip length (:func:`median_filter_clips`).
    """
    frames = tuple(frames)
    if len(set(frames)) == 1:
        return median_filter_clips(scores, frames[0])
    return {clip: np.stack([median_filter(row, n) for row, n in zip(np.asarray(values, np.float64), frames)])
            for clip, values in scores.items()}


def tuned_scores(
    scores: Mapping[str, np.ndarray], median_filter_frames: Iterable[int], sebb: Iterable[SebbParams] | None = None,
) -> dict[str, np.ndarray]:
    """Each clip's (C, n_frames) scores after per-class post-processing: class c median-filtered over
    ``median_filter_frames[c]`` frames, then, with ``sebb``, replaced by its SEBB curve (so that the
    frames above a threshold t are exactly the SEBBs with confidence > t).

    Without any filter (every length 1) and without SEBBs the scores are returned as given (no copy).
    """
    median_filter_frames = tuple(median_filter_frames)
    if sebb is None and all(n == 1 for n in median_filter_frames):
        return dict(scores)
    filtered = median_filter_per_class(scores, median_filter_frames)
    return filtered if sebb is None else sebb_scores(filtered, sebb)
