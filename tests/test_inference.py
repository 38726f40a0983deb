"""tbfl detect on real audio files of several lengths, rates and channel counts."""

import json

import numpy as np
import pytest
import soundfile as sf

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES, FRAME_HOP_S
from tbfl.data.desed import read_strong_tsv
from tbfl.evaluation import read_scores
from tbfl.inference import Detector
from tbfl.training.train import train_run


@pytest.fixture(scope="module")
def trained_run(make_recipe_module, tmp_path_factory):
    return train_run(make_recipe_module(), tmp_path_factory.mktemp("detect") / "run", progress=False).run_dir


def write_stereo(path, duration_s, sample_rate=44_100, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    tone = 0.3 * np.sin(2 * np.pi * 880 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    audio = np.stack([tone + 0.01 * rng.standard_normal(t.size), tone], axis=1)
    sf.write(path, audio, sample_rate)
    return path


def test_detect_writes_valid_tsvs_for_any_length(trained_run, tmp_path):
    folder = tmp_path / "audio"
    folder.mkdir()
    lengths = {"short.wav": 3.0, "clip.wav": 10.0, "long.wav": 37.0}
    for name, seconds in lengths.items():
        write_stereo(folder / name, seconds)
    out = tmp_path / "events.tsv"
    scores_dir = tmp_path / "scores"
    assert main(["detect", str(trained_run), str(folder), "--out", str(out), "--threshold", "0.3", "--scores", str(scores_dir), "--no-progress"]) == 0
    labels = read_strong_tsv(out, durations=lengths)  # the project's own validating reader
    assert set(labels.filenames) == set(lengths)
    scores, hop = read_scores(scores_dir, DESED_CLASSES)
    assert hop == pytest.approx(FRAME_HOP_S)
    for name, seconds in lengths.items():
        n_frames = scores[name.removesuffix(".wav")].shape[1]
        assert n_frames == int(np.ceil(seconds * 156 / 10))  # the model's 156 frames per 10 s


def test_long_file_scores_average_overlapping_windows(trained_run):
    """20 s = windows at frames 0, 78 and 156; frames 78-155 are the mean of the first two windows."""
    detector = Detector.from_checkpoint(trained_run)
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.standard_normal(16_000 * 20)).astype(np.float32)
    hop = detector.window_frames // 2
    samples_per_frame = 1024
    full = detector.frame_scores(audio)
    first = detector.frame_scores(audio[:160_000])
    second = detector.frame_scores(audio[hop * samples_per_frame : hop * samples_per_frame + 160_000])
    assert full.shape == (10, 312) and first.shape == second.shape == (10, 156)
    np.testing.assert_allclose(full[:, :hop], first[:, :hop], atol=1e-6)
    np.testing.assert_allclose(full[:, hop : 2 * hop], (first[:, hop:] + second[:, :hop]) / 2, atol=1e-6)


def test_per_class_thresholds_from_json(trained_run, tmp_path):
    write_stereo(tmp_path / "a.wav", 4.0)
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps({name: 1.0 for name in DESED_CLASSES}))  # nothing can pass
    out = tmp_path / "events.tsv"
    assert main(["detect", str(trained_run), str(tmp_path / "a.wav"), "--out", str(out), "--threshold", str(thresholds), "--no-progress"]) == 0
    labels = read_strong_tsv(out)
    assert labels.filenames == ("a.wav",) and labels.events.empty
    thresholds.write_text(json.dumps({"Dog": 0.5}))
    assert main(["detect", str(trained_run), str(tmp_path / "a.wav"), "--out", str(out), "--threshold", str(thresholds)]) == 2


def test_missing_inputs_are_named(trained_run, tmp_path, capsys):
    assert main(["detect", str(trained_run), str(tmp_path / "nope.wav"), "--out", str(tmp_path / "e.tsv")]) == 2
    assert "nope.wav" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "no-run"), str(tmp_path), "--out", str(tmp_path / "e.tsv")]) == 2
