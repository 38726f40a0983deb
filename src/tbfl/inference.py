"""``tbfl detect``: sound events in any audio file with a trained model.

Audio of any sample rate and channel count is resampled to the model's rate
(16 kHz) mono. A file of n samples gets ceil(n / samples_per_frame) output frames on the run's frame
grid (1024 samples = 64 ms in the shipped recipes): the scores cover the whole file, the last frame
possibly partial (scored on the audio it holds followed by silence, kept; event offsets are clipped
to the file's end). A clip is scored in windows of the training clip length (10 s)
on the frame grid stored with the checkpoint (``MeanTeacherSED.frame_grid``,
156 frames of 64 ms in the shipped recipes): windows start every
``hop_frames`` output frames (half a window by default, 78 frames = 4.992 s on
that grid), the last one padded with silence; overlapping frames are averaged.
A file shorter than a window is one padded window. Frames that start at or after
the end of the audio are dropped, then the chosen post-processing decodes events, which are
written as a DESED strong TSV (filename, onset, offset, event_label): a median
filter and one threshold or one per class, or the per-class post-processing
tuned by ``tbfl tune-postprocess`` (median filters or SEBBs, and thresholds if
tuned), applied exactly as ``tbfl evaluate --postprocess`` applies it.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from tbfl.data.audio import AUDIO_SUFFIXES, AudioError, audio_files, load_audio
from tbfl.data.desed import StrongLabels, write_strong_tsv
from tbfl.data.labels import FrameGrid
from tbfl.evaluation import decode_events, median_filter_frames, write_scores
from tbfl.evaluation.postprocessing.params import PostprocessParams
from tbfl.features import FeatureConfig, compute_features
from tbfl.run_folder import RunFolder, check_checkpoint
from tbfl.training.module import MeanTeacherSED
from tbfl.training.predict import predict_features


@dataclass
class Detector:
    """A trained network with the feature settings it was trained on and its output frame grid."""

    network: torch.nn.Module
    feature_config: FeatureConfig
    classes: tuple[str, ...]
    frame_grid: FrameGrid

    @property
    def window_frames(self) -> int:
        """Output frames of one window of ``feature_config.clip_duration_s`` (156 on the baseline grid)."""
        return self.frame_grid.n_frames

    @property
    def window_samples(self) -> int:
        return self.feature_config.n_samples

    @property
    def samples_per_frame(self) -> int:
        """Audio samples per output frame: the run's frame hop at the feature rate (1024 = 64 ms at 16 kHz)."""
        return int(round(self.frame_grid.frame_hop_s * self.feature_config.sample_rate_hz))

    def n_frames(self, n_samples: int) -> int:
        """Output frames that cover ``n_samples`` of audio: ceil(n_samples / samples_per_frame), at least 1.

        Frame i covers [i * hop, (i + 1) * hop) s. A last partial frame (the audio ends inside it) is
        kept and scored on the audio it holds followed by silence, so the scores reach the file's end
        (and pass it by less than one hop); :func:`detect` clips event offsets to the file's duration.
        """
        return max(1, -(-n_samples // self.samples_per_frame))

    @classmethod
    def from_checkpoint(cls, model: str | Path, network: str = "teacher") -> "Detector":
        """Load a checkpoint file, or the best checkpoint of a ``tbfl train`` run folder."""
        path = Path(model)
        if path.is_dir():
            path = RunFolder(path).best_checkpoint()
        check_checkpoint(path)  # a damaged file: one clear error, not a torch traceback
        module = MeanTeacherSED.load_from_checkpoint(path, map_location="cpu", weights_only=False)
        return cls(module.network(network).eval(), FeatureConfig(**module.hparams.features), module.classes, module.frame_grid)

    def frame_scores(self, audio: np.ndarray, *, hop_frames: int | None = None) -> np.ndarray:
        """(C, n_frames) probabilities on ``frame_grid`` for mono ``audio`` at ``feature_config.sample_rate_hz``,
        of any length (windows averaged)."""
        window_frames = self.window_frames
        hop_frames = hop_frames or max(1, window_frames // 2)
        samples_per_frame = self.samples_per_frame
        n_frames = self.n_frames(len(audio))
        starts = list(range(0, max(1, n_frames - window_frames + hop_frames), hop_frames))
        windows = []
        for start in starts:
            first_sample = int(round(start * samples_per_frame))
            chunk = audio[first_sample : first_sample + self.window_samples]
            chunk = np.pad(chunk, (0, self.window_samples - len(chunk)))
            windows.append(compute_features(chunk, self.feature_config))
        probabilities, _ = predict_features(self.network, np.stack(windows))
        total = np.zeros((len(self.classes), starts[-1] + window_frames), np.float64)
        counts = np.zeros(starts[-1] + window_frames)
        for start, window in zip(starts, probabilities):
            total[:, start : start + window_frames] += window
            counts[start : start + window_frames] += 1
        return (total / np.maximum(counts, 1))[:, :n_frames].astype(np.float32)


def input_files(inputs: Sequence[str | Path]) -> list[Path]:
    """Audio files named directly or found (recursively, hidden files skipped) in folders, each folder's sorted."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = audio_files(item, recursive=True)
            if not found:
                raise FileNotFoundError(f"{item}: no audio files ({', '.join(AUDIO_SUFFIXES)}) in this folder")
            files += found
        elif item.is_file():
            files.append(item)
        else:
            raise FileNotFoundError(f"{item}: audio file or folder not found")
    return files


def class_thresholds(threshold: float | str | Path, classes: Sequence[str]) -> np.ndarray:
    """One threshold for every class, or per class from a JSON mapping class -> threshold."""
    if isinstance(threshold, (int, float)):
        return np.full(len(classes), float(threshold))
    path = Path(threshold)
    try:
        mapping = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: threshold file not found") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    missing = [c for c in classes if c not in mapping]
    if missing:
        raise ValueError(f"{path}: no threshold for {missing}")
    return np.array([float(mapping[c]) for c in classes])


def detect(
    model: str | Path,
    inputs: Sequence[str | Path],
    out_tsv: str | Path,
    *,
    threshold: float | str | Path | None = None,
    median_filter_s: float | None = None,
    postprocess: PostprocessParams | None = None,
    scores_dir: str | Path | None = None,
    network: str = "teacher",
    progress: bool = True,
) -> StrongLabels:
    """Detect events in every input file; write a DESED strong TSV (and optionally frame scores).

    Post-processing: a median filter of ``median_filter_s`` (default 0.45 s) and ``threshold``
    (default 0.5; a number or a JSON file class -> threshold), or ``postprocess``, the tuned
    per-class parameters (their median filters replace ``median_filter_s``; their thresholds,
    when tuned, replace ``threshold``). ValueError when both name the same setting, or when the
    parameters are for other classes or another frame hop than the model's.
    """
    detector = Detector.from_checkpoint(model, network)
    frame_hop_s = detector.frame_grid.frame_hop_s
    if postprocess is not None:
        postprocess.check_applicable(detector.classes, (), allow_tuning_set=True, frame_hop_s=frame_hop_s)
        if median_filter_s is not None:
            raise ValueError("a median filter length and tuned post-processing were both given: the tuned median filters apply")
        if postprocess.thresholds is not None and threshold is not None:
            raise ValueError("a threshold and post-processing with tuned thresholds were both given: the tuned thresholds apply")
    if postprocess is not None and postprocess.thresholds is not None:
        thresholds = np.asarray(postprocess.thresholds, dtype=np.float64)
    else:
        thresholds = class_thresholds(0.5 if threshold is None else threshold, detector.classes)
    files = input_files(inputs)
    by_stem = {path.stem: path for path in files}
    if len(by_stem) != len(files):
        duplicates = sorted({p.name for p in files if sum(q.stem == p.stem for q in files) > 1})
        raise ValueError(f"several input files share a name {duplicates[:5]}: their events could not be told apart in one TSV")
    scores, durations_s = {}, {}
    for path in tqdm(files, desc="detecting", unit="file", disable=not progress):
        try:
            audio = load_audio(path, sample_rate=detector.feature_config.sample_rate_hz, duration_s=None)
        except AudioError as error:  # e.g. a macOS ._a.wav or a text file named .wav: the rest of the batch runs
            warnings.warn(f"{error}; left out", UserWarning, stacklevel=2)
            continue
        scores[path.stem] = detector.frame_scores(audio)
        durations_s[path.stem] = len(audio) / detector.feature_config.sample_rate_hz
    if not scores:
        raise ValueError(f"none of the {len(files)} input file(s) could be decoded as audio")
    files = [path for path in files if path.stem in scores]
    if postprocess is None:
        filter_frames = median_filter_frames(0.45 if median_filter_s is None else median_filter_s, frame_hop_s)
        events = decode_events(scores, thresholds, detector.classes, frame_hop_s=frame_hop_s, filter_frames=filter_frames)
    else:
        tuned = postprocess.apply(scores)
        events = decode_events(tuned, thresholds, detector.classes, frame_hop_s=frame_hop_s)
    stems = events["filename"].str.removesuffix(".wav")
    events["offset"] = np.minimum(events["offset"].to_numpy(), stems.map(durations_s).to_numpy())
    events["filename"] = stems.map(lambda stem: by_stem[stem].name)
    labels = StrongLabels(events[events["offset"] > events["onset"]], tuple(p.name for p in files))
    write_strong_tsv(out_tsv, labels)
    if scores_dir is not None:
        write_scores(scores_dir, scores, detector.classes, frame_hop_s)
    return labels
