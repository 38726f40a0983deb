"""What the losses change, seen on the validation set: PSD-ROC curves and event rolls of chosen runs.

Both read a run's ``validation_scores.npz`` (float16 frame probabilities of the
evaluated network) and the dataset's validation labels and audio. The
float16 scores move PSDS by about 1e-3 against the run's own metrics.json
(computed from float32), which is below the seed-to-seed spread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from tbfl.data.audio import load_audio
from tbfl.data.desed import read_durations_tsv, read_strong_tsv
from tbfl.data.layout import DesedLayout
from tbfl.evaluation import PSDS1, PSDS2, clip_id, evaluate_scores
from tbfl.evaluation.postprocessing.frames import decode_events, median_filter_frames
from tbfl.experiments.runs import Configuration, Run
from tbfl.features import FeatureConfig, compute_features


def load_scores(run: Run) -> tuple[list[str], np.ndarray, float]:
    """(filenames, (N, C, T) float32 probabilities, frame hop in s) of a run's validation set."""
    with np.load(run.folder.validation_scores, allow_pickle=False) as saved:
        return list(saved["filenames"]), saved["probabilities"].astype(np.float32), float(saved["frame_hop_s"])


def psd_roc_curves(
    configurations: Mapping[str, Configuration], layout: DesedLayout, classes: Sequence[str], *, median_filter_s: float = 0.45
) -> dict[str, dict[str, list[tuple[np.ndarray, np.ndarray]]]]:
    """Scenario ("PSDS1", "PSDS2") -> label -> one (eFPR per hour, eTPR) PSD-ROC per run (the 50 operating points)."""
    labels = read_strong_tsv(layout.path("validation_tsv"), classes)
    durations = read_durations_tsv(layout.path("validation_durations_tsv"))
    curves: dict[str, dict[str, list]] = {"PSDS1": {}, "PSDS2": {}}
    for label, config in configurations.items():
        for run in sorted(config.runs, key=lambda r: r.seed):
            filenames, probabilities, frame_hop_s = load_scores(run)
            scores = {clip_id(name): frames for name, frames in zip(filenames, probabilities)}
            result = evaluate_scores(scores, labels, durations, tuple(classes), frame_hop_s=frame_hop_s, median_filter_s=median_filter_s)
            for scenario, psds, settings in (("PSDS1", result.psds1, PSDS1), ("PSDS2", result.psds2, PSDS2)):
                # the staircase holds its last value up to the scenario's maximum eFPR
                efpr, etpr = np.append(psds.efpr, settings.max_efpr), np.append(psds.etpr, psds.etpr[-1])
                curves[scenario].setdefault(label, []).append((efpr, etpr))
    return curves


def short_event_clips(layout: DesedLayout, classes: Sequence[str], short_classes: Sequence[str], n_clips: int = 3) -> list[str]:
    """The ``n_clips`` validation clips with the most events of ``short_classes`` (ties: by name)."""
    events = read_strong_tsv(layout.path("validation_tsv"), classes).events
    counts = events[events["event_label"].isin(short_classes)].groupby("filename").size()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [name for name, _ in ranked[:n_clips]]


def event_roll_clips(
    systems: Mapping[str, Run], layout: DesedLayout, classes: Sequence[str], filenames: Sequence[str], feature_settings: Mapping,
    *, median_filter_s: float = 0.45, threshold: float = 0.5,
) -> list[dict]:
    """The inputs of :func:`tbfl.experiments.figures.figure_event_rolls` for ``filenames``.

    ``systems``: label -> run whose validation scores are shown (one seed each). Each system's
    detections are decoded as event-F1 @0.5 decodes them: ``median_filter_s`` median filter, then ``threshold``.
    """
    labels = read_strong_tsv(layout.path("validation_tsv"), classes)
    durations = read_durations_tsv(layout.path("validation_durations_tsv"))
    feature_config = FeatureConfig(**feature_settings)
    scores = {label: load_scores(run) for label, run in systems.items()}
    frame_hop_s = next(iter(scores.values()))[2]
    filter_frames = median_filter_frames(median_filter_s, frame_hop_s)
    clips = []

    def as_tuples(events) -> list[tuple[float, float, int]]:
        return [(row.onset, row.offset, list(classes).index(row.event_label)) for row in events.itertuples()]

    for filename in filenames:
        audio = load_audio(layout.path("validation_audio") / filename, sample_rate=feature_config.sample_rate_hz)
        clip_scores = {label: probabilities[names.index(filename)] for label, (names, probabilities, _) in scores.items()}
        clips.append({
            "name": filename,
            "log_mel": compute_features(audio, feature_config),
            "duration_s": durations[filename],
            "events": as_tuples(labels.for_clip(filename)),
            "scores": clip_scores,
            "detections": {label: as_tuples(decode_events({filename: frames}, threshold, tuple(classes), frame_hop_s=frame_hop_s, filter_frames=filter_frames))
                           for label, frames in clip_scores.items()},
            "frame_hop_s": frame_hop_s,
        })
    return clips


def dataset_layout(run: Run, data_root: str | Path | None = None) -> DesedLayout | None:
    """The layout of the dataset a run was trained on (``data_root`` overrides the run's config); None if absent."""
    config = yaml.safe_load(run.folder.config.read_text())
    root = Path(data_root) if data_root is not None else Path(config["data"]["root"])
    layout = DesedLayout.from_config(root, config["data"].get("layout") or {})
    return layout if layout.path("validation_tsv").is_file() else None
