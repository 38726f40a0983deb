"""The one reader of an evaluation's files: a score folder, its frame hop, the ground truth and the durations.

``tbfl evaluate`` (full and ``--psds-only``), ``tbfl tune-postprocess`` and :func:`~tbfl.evaluation.evaluate.evaluate_files`
read their inputs here, so that the three agree on classes, frame grid and clip names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tbfl.data.desed import StrongLabels, read_durations_tsv, read_strong_tsv
from tbfl.evaluation.scores import median_frame_hop_s, read_any_scores


@dataclass(frozen=True)
class EvaluationFiles:
    """What an evaluation reads from disk.

    ``scores``: clip id -> (C, n_frames) in ``classes`` order; ``times_s``: clip id -> (n_frames + 1,) frame
    boundaries (s); ``frame_hop_s``: their median frame length (s); ``ground_truth``: strong labels of ``classes``;
    ``durations``: file name -> duration (s).
    """

    scores: dict[str, np.ndarray]
    times_s: dict[str, np.ndarray]
    classes: tuple[str, ...]
    frame_hop_s: float
    ground_truth: StrongLabels
    durations: dict[str, float]


def read_evaluation_files(
    scores_dir: str | Path, ground_truth_tsv: str | Path, durations_tsv: str | Path,
    classes: tuple[str, ...] | None = None, *, progress: bool = False,
) -> EvaluationFiles:
    """Read the scores (a folder of ``<clip id>.tsv`` files on any grid sed_scores_eval reads, or a score store;
    ``classes`` None: their header's), a strong-label TSV and a durations TSV. The frame hop is the scores' median frame length (1 ns)."""
    scores, times_s, classes = read_any_scores(scores_dir, classes, progress=progress)
    return EvaluationFiles(
        scores, times_s, tuple(classes), median_frame_hop_s(times_s),
        read_strong_tsv(ground_truth_tsv, classes), read_durations_tsv(durations_tsv),
    )
