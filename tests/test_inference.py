"""tbfl detect on real audio files of several lengths, rates and channel counts."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES, FRAME_HOP_S
from tbfl.data.desed import read_durations_tsv, read_strong_tsv
from tbfl.data.layout import DesedLayout
from tbfl.evaluation import read_scores
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.metrics.collar_based.reference import sed_eval_event_based
from tbfl.evaluation.postprocessing.params import PostprocessParams
from tbfl.features import compute_features
from tbfl.inference import Detector
from tbfl.training.predict import predict_features
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


@pytest.mark.slow  # trains a tiny model
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
        assert n_frames == int(np.ceil(seconds * 16_000 / 1024))  # 64 ms frames up to the file's end, the last one partial


@pytest.mark.slow  # trains a tiny model
@pytest.mark.parametrize("seconds", [600.0, 10.5])
def test_scores_reach_the_end_of_the_file(trained_run, tmp_path, seconds):
    """Regression: frames were counted as 10/156 s, so a 600 s file's scores ended at 599.04 s."""
    rng = np.random.default_rng(2)
    sf.write(tmp_path / "long.wav", (0.1 * rng.standard_normal(int(seconds * 16_000))).astype(np.float32), 16_000)
    scores_dir = tmp_path / "scores"
    assert main(["detect", str(trained_run), str(tmp_path / "long.wav"), "--out", str(tmp_path / "e.tsv"), "--threshold", "0.0",
                 "--median-filter-s", "0", "--scores", str(scores_dir), "--no-progress"]) == 0
    table = pd.read_csv(scores_dir / "long.tsv", sep="\t")
    assert len(table) == int(np.ceil(seconds / 0.064))  # 9375 frames for 600 s, 165 for 10.5 s (the last partial)
    assert table["onset"].iloc[-1] < seconds <= table["offset"].iloc[-1] < seconds + 0.064
    assert np.isfinite(table[list(DESED_CLASSES)].to_numpy()).all()
    events = read_strong_tsv(tmp_path / "e.tsv", durations={"long.wav": seconds}).events  # threshold 0: every class all along
    assert set(events["event_label"]) == set(DESED_CLASSES)
    assert events["offset"].max() == pytest.approx(seconds)  # detections reach the end, clipped to it


@pytest.mark.slow  # trains a tiny model
def test_long_file_scores_average_overlapping_windows(trained_run):
    """20 s = 313 frames (the last partial), windows at frames 0, 78, 156 and 234; frames 78-155 are the mean of
    the first two windows' outputs."""
    detector = Detector.from_checkpoint(trained_run)
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.standard_normal(16_000 * 20)).astype(np.float32)
    hop = detector.window_frames // 2
    samples_per_frame = 1024

    def window(first_sample):
        features = compute_features(audio[first_sample : first_sample + 160_000], detector.feature_config)
        return predict_features(detector.network, features[None])[0][0]

    full = detector.frame_scores(audio)
    first, second = window(0), window(hop * samples_per_frame)
    assert full.shape == (10, 313) and first.shape == second.shape == (10, 156)
    np.testing.assert_allclose(full[:, :hop], first[:, :hop], atol=1e-6)
    np.testing.assert_allclose(full[:, hop : 2 * hop], (first[:, hop:] + second[:, :hop]) / 2, atol=1e-6)


@pytest.mark.slow  # trains a tiny model
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


@pytest.mark.slow  # trains a tiny model
def test_missing_inputs_are_named(trained_run, tmp_path, capsys):
    assert main(["detect", str(trained_run), str(tmp_path / "nope.wav"), "--out", str(tmp_path / "e.tsv")]) == 2
    assert "nope.wav" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "no-run"), str(tmp_path), "--out", str(tmp_path / "e.tsv")]) == 2


@pytest.fixture(scope="module")
def sharpened_checkpoint(trained_run, tmp_path_factory):
    """The trained run's best checkpoint with large strong-head weights: the 2-epoch model's scores are
    almost flat (every threshold detects whole clips); these vary over time, so post-processing matters."""
    path = next((trained_run / "checkpoints").glob("best-*.ckpt"))
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    generator = torch.Generator().manual_seed(0)
    for network in ("student", "teacher"):
        weight = checkpoint["state_dict"][f"{network}.strong_head.weight"]
        weight.copy_(torch.randn(weight.shape, generator=generator) * 3.0)
    sharpened = tmp_path_factory.mktemp("sharpened") / "sharpened.ckpt"
    torch.save(checkpoint, sharpened)
    return sharpened


@pytest.mark.parametrize("tuning, tune_thresholds", [
    (["--method", "median", "--candidates-s", "0.9"], False),  # every class filtered over 15 frames, threshold 0.5
    (["--method", "sebb"], False),  # SEBBs at threshold 0.5
    (["--method", "median"], True),  # per-class filters and thresholds
])
@pytest.mark.slow  # trains a tiny model
def test_tuned_postprocessing_gives_the_events_evaluate_scores(sharpened_checkpoint, tiny_root, tmp_path, capsys, tuning, tune_thresholds):
    """detect --postprocess writes the events whose event F1 `evaluate --postprocess` reports (sed_eval on the TSV)."""
    trained_run = sharpened_checkpoint
    layout = DesedLayout(tiny_root)
    audio, labels_tsv, durations_tsv = (layout.path(key) for key in ("validation_audio", "validation_tsv", "validation_durations_tsv"))
    scores_dir, params_file = tmp_path / "scores", tmp_path / "params.json"
    assert main(["detect", str(trained_run), str(audio), "--out", str(tmp_path / "raw.tsv"), "--scores", str(scores_dir), "--no-progress"]) == 0
    assert main(["tune-postprocess", "--scores", str(scores_dir), "--ground-truth", str(labels_tsv), "--durations", str(durations_tsv),
                 "--out", str(params_file), *tuning] + ["--tune-thresholds"] * tune_thresholds) == 0
    out = tmp_path / "tuned.tsv"
    assert main(["detect", str(trained_run), str(audio), "--out", str(out), "--postprocess", str(params_file), "--no-progress"]) == 0
    detections = read_strong_tsv(out).events
    untuned = read_strong_tsv(tmp_path / "raw.tsv").events
    assert len(detections) >= 10 and not detections.reset_index(drop=True).equals(untuned.reset_index(drop=True))

    params = PostprocessParams.load(params_file)
    scores, hop_s = read_scores(scores_dir, DESED_CLASSES)
    truth, durations = read_strong_tsv(labels_tsv), read_durations_tsv(durations_tsv)
    result = evaluate_scores(scores, truth, durations, DESED_CLASSES, frame_hop_s=hop_s, postprocess=params, allow_tuning_set=True)
    reported = result.event_f1_tuned_thresholds if tune_thresholds else result.event_f1
    reference = sed_eval_event_based(truth.events, detections, sorted(scores), DESED_CLASSES)
    for c, name in enumerate(DESED_CLASSES):
        counts = reference["per_class"][name]
        assert (reported.tp[c], reported.fp[c], reported.fn[c]) == (counts["tp"], counts["fp"], counts["fn"]), name

    capsys.readouterr()
    if tune_thresholds:
        assert main(["detect", str(trained_run), str(audio), "--out", str(out), "--postprocess", str(params_file), "--threshold", "0.3"]) == 2
        assert "tuned thresholds apply" in capsys.readouterr().err
    assert main(["detect", str(trained_run), str(audio), "--out", str(out), "--postprocess", str(params_file), "--median-filter-s", "0.3"]) == 2
    assert "tuned median filters apply" in capsys.readouterr().err


APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)  # the start of a macOS ._ resource fork


@pytest.mark.slow  # trains a tiny model
def test_undecodable_files_are_warned_about_and_the_rest_is_detected(trained_run, tmp_path, capsys):
    """Regression: one hidden or non-audio file aborted the whole batch."""
    folder = tmp_path / "audio"
    folder.mkdir()
    write_stereo(folder / "a.wav", 4.0)
    write_stereo(folder / "b.wav", 3.0)
    (folder / "._a.wav").write_bytes(APPLEDOUBLE)
    (folder / "x.wav").write_text("not audio\n")
    out = tmp_path / "events.tsv"
    assert main(["detect", str(trained_run), str(folder), "--out", str(out), "--threshold", "0.3", "--no-progress"]) == 0
    assert read_strong_tsv(out).filenames == ("a.wav", "b.wav")
    err = capsys.readouterr().err.splitlines()
    warned = [line for line in err if line.startswith("tbfl detect: warning: ")]
    # x.wav is named in a warning; ._a.wav too, unless the folder listing already skips hidden files
    assert [line for line in warned if "._a.wav" not in line] == [line for line in warned if "/x.wav: cannot read audio" in line]
    assert len([line for line in warned if "/x.wav: cannot read audio" in line]) == 1
    assert all(line.endswith("; left out") for line in warned) and not any(".py:" in line for line in err)  # no source path
    assert main(["detect", str(trained_run), str(folder / "x.wav"), "--out", str(out)]) == 2
    assert "none of the 1 input file(s) could be decoded" in capsys.readouterr().err
