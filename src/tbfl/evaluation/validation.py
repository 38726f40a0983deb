"""Validation of evaluation inputs: score arrays, reference events, durations and the clip sets.

One rule for same-class ground-truth events of a clip that overlap or touch,
whatever the input (a file through ``read_strong_tsv`` or a DataFrame through
the API): they are merged into one event, with a warning.
"""

from __future__ import annotations

import warnings

from typing import Any, Mapping

import numpy as np
import pandas as pd

from tbfl.evaluation.scores import clip_id, frame_to_scores


def score_arrays(scores, classes, frame_hop_s) -> dict[str, np.ndarray]:
    """clip id -> validated (C, n_frames) finite float scores: float arrays as given (views stay views), others as float64."""
    arrays = {}
    for name, clip_scores in scores.items():
        clip = clip_id(str(name))
        if isinstance(clip_scores, pd.DataFrame):
            clip_scores, hop_s = frame_to_scores(clip_scores, classes, source=f"scores of {clip}")
            if abs(hop_s - frame_hop_s) > 1e-6:
                raise ValueError(f"scores of {clip}: frame hop {hop_s:.6g} s, expected {frame_hop_s:.6g} s")
        if not (isinstance(clip_scores, np.ndarray) and clip_scores.dtype.kind == "f"):
            clip_scores = np.asarray(clip_scores, dtype=np.float64)
        if clip_scores.ndim != 2 or clip_scores.shape[0] != len(classes) or clip_scores.shape[1] == 0:
            raise ValueError(f"scores of {clip}: expected shape (C={len(classes)}, n_frames), got {clip_scores.shape}")
        if not np.isfinite(clip_scores).all():
            label, frame = np.argwhere(~np.isfinite(clip_scores))[0]
            raise ValueError(f"scores of {clip}: {clip_scores[label, frame]} at frame {frame}, class {classes[label]!r}")
        arrays[clip] = clip_scores
    return arrays


def score_views(scores, classes) -> dict[str, np.ndarray]:
    """clip id -> (C, n_frames) real scores as given (not copied: views into one large array stay views).

    Finiteness is checked by :func:`check_finite_block` on each block the caller reads.
    """
    arrays = {}
    for name, clip_scores in scores.items():
        clip = clip_id(str(name))
        if not isinstance(clip_scores, np.ndarray) or clip_scores.dtype.kind not in "fiu":
            raise ValueError(f"scores of {clip}: expected a real (C, n_frames) numpy array, got {type(clip_scores).__name__}")
        if clip_scores.ndim != 2 or clip_scores.shape[0] != len(classes) or clip_scores.shape[1] == 0:
            raise ValueError(f"scores of {clip}: expected shape (C={len(classes)}, n_frames), got {clip_scores.shape}")
        arrays[clip] = clip_scores
    return arrays


def check_finite_block(scores: Mapping[str, np.ndarray], classes) -> None:
    """ValueError naming the first clip, frame and class of ``scores`` (clip id -> (len(classes), n_frames)) that is not finite."""
    for clip, clip_scores in scores.items():
        if not np.isfinite(clip_scores).all():
            label, frame = np.argwhere(~np.isfinite(clip_scores))[0]
            raise ValueError(f"scores of {clip}: {clip_scores[label, frame]} at frame {frame}, class {classes[label]!r}")


def reference_events(ground_truth, classes) -> pd.DataFrame:
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
    return merge_overlapping_events(events.reset_index(drop=True))


def merge_overlapping_events(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` (clip_id, onset, offset, event_label) with same-class overlapping or touching events of a clip merged."""
    events = events.sort_values(["clip_id", "event_label", "onset", "offset"], kind="stable")
    same_track = (events["clip_id"] == events["clip_id"].shift()) & (events["event_label"] == events["event_label"].shift())
    running_offset_s = events.groupby(["clip_id", "event_label"], sort=False)["offset"].cummax()
    continues = same_track & (events["onset"] <= running_offset_s.shift())
    if not continues.any():
        return events.reset_index(drop=True)
    segment = (~continues).cumsum().to_numpy()
    merged = events.groupby(segment, sort=False).agg(
        filename=("filename", "first"), onset=("onset", "min"), offset=("offset", "max"),
        event_label=("event_label", "first"), clip_id=("clip_id", "first"),
    )
    clips = pd.unique(events.loc[continues, "clip_id"])
    warnings.warn(
        f"ground truth: merged {int(continues.sum())} same-class overlapping or touching event(s) in {len(clips)} clip(s), "
        f"e.g. {clips[0]!r}", UserWarning, stacklevel=3,
    )
    return merged.reset_index(drop=True)


def listed_clips(ground_truth) -> set[str]:
    """Clips a ``StrongLabels`` lists, with or without events."""
    return {clip_id(str(f)) for f in getattr(ground_truth, "filenames", ())}


def check_durations(durations: dict[str, float]) -> None:
    if not durations:
        raise ValueError("the durations list is empty: nothing to evaluate")
    bad = [name for name, seconds in durations.items() if not (np.isfinite(seconds) and seconds > 0)]
    if bad:
        raise ValueError(f"{len(bad)} clip duration(s) are not positive, e.g. {bad[0]}: {durations[bad[0]]}")


def check_clip_sets(scored: set[str], annotated: set[str], evaluated: set[str]) -> None:
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
