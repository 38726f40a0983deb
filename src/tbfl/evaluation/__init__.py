"""Post-processing and the field's metrics (PSDS1/2, event-based and intersection-based F1).

Every metric equals its reference library on the same input (sed_eval,
psds_eval, sed_scores_eval; see ``metrics/*/reference.py``) and is computed
from one vectorised pass over the detections of all thresholds.
"""

from tbfl.evaluation.evaluate import evaluate, evaluate_files, evaluate_psds, evaluate_scores
from tbfl.evaluation.result import EvaluationResult
from tbfl.evaluation.settings import DEFAULT_THRESHOLDS, PSDS1, PSDS2, EvaluationSettings, PsdsSettings
from tbfl.evaluation.postprocessing.frames import binarize, decode_events, median_filter, median_filter_clips, median_filter_frames
from tbfl.evaluation.scores import (
    clip_id, frame_to_scores, frame_to_timed_scores, read_any_scores, read_score_store, read_score_tables, read_scores,
    scores_to_frame, write_score_store, write_scores,
)

__all__ = [
    "DEFAULT_THRESHOLDS", "PSDS1", "PSDS2", "EvaluationResult", "EvaluationSettings", "PsdsSettings",
    "binarize", "clip_id", "decode_events", "evaluate", "evaluate_files", "evaluate_psds", "evaluate_scores",
    "frame_to_scores", "frame_to_timed_scores", "median_filter", "median_filter_clips", "median_filter_frames",
    "read_any_scores", "read_score_store", "read_score_tables", "read_scores", "scores_to_frame",
    "write_score_store", "write_scores",
]
