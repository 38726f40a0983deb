"""Clip-based (tagging) statistics: one item per (clip, class).

As sed_scores_eval's ``clip_based``: a clip is positive for a class when it
has a reference event of the class, and its score is the class's highest
frame score in the clip (every frame the scores hold, the clip's duration
does not cut them).
"""

from __future__ import annotations

import numpy as np

from tbfl.evaluation.metrics.detections import ScoreGrid
from tbfl.evaluation.metrics.ground_truth import GroundTruth
from tbfl.evaluation.metrics.items import ItemStatistics


def clip_scores(grid: ScoreGrid) -> np.ndarray:
    """(n_clips, grid.n_classes) each clip's highest score of each class."""
    return grid.values.max(axis=1).reshape(-1, grid.n_classes)


def clip_statistics(classes: tuple[str, ...], scores: np.ndarray, reference: GroundTruth) -> ItemStatistics:
    """The items of every clip: ``scores`` (n_clips, C) from :func:`clip_scores`, labels from ``reference``."""
    n_clips = len(scores)
    positive = (np.diff(reference.row_start) > 0).reshape(n_clips, len(classes))
    return ItemStatistics(tuple(classes), np.asarray(scores, np.float64), positive, np.arange(n_clips), n_clips)
