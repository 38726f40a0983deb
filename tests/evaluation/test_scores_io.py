"""The sed_scores_eval score format: exact round trips, interoperability, clear errors."""

import numpy as np
import pandas as pd
import pytest

from tbfl.evaluation.scores import clip_id, frame_to_scores, read_scores, scores_to_frame, write_scores

CLASSES = ("Alarm_bell_ringing", "Dog", "Speech")
HOP_S = 0.064


def write_table(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    return {"Y00pbt6aJV8Y_350.000_360.000": rng.random((3, 156)), "short": rng.random((3, 5)).astype(np.float32)}


def test_round_trip_is_exact(tmp_path, scores):
    write_scores(tmp_path, scores, CLASSES, HOP_S)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Y00pbt6aJV8Y_350.000_360.000.tsv", "short.tsv"]
    read, hop_s = read_scores(tmp_path, CLASSES)
    assert hop_s == HOP_S
    assert set(read) == set(scores)
    for clip, values in scores.items():
        assert np.array_equal(read[clip], values.astype(np.float64))
    # the time columns are i * hop exactly
    table = pd.read_csv(tmp_path / "short.tsv", sep="\t")
    assert list(table.columns) == ["onset", "offset", *CLASSES]
    assert np.array_equal(table["onset"], np.arange(5) * HOP_S)
    assert np.array_equal(table["offset"], np.arange(1, 6) * HOP_S)


def test_format_is_sed_scores_eval_s(tmp_path, scores):
    from sed_scores_eval.base_modules.io import read_sed_scores
    from sed_scores_eval.base_modules.scores import create_score_dataframe

    write_scores(tmp_path, scores, CLASSES, HOP_S)
    theirs = read_sed_scores(tmp_path)
    for clip, values in scores.items():
        expected = create_score_dataframe(values.T, np.arange(values.shape[1] + 1) * HOP_S, list(CLASSES))
        pd.testing.assert_frame_equal(scores_to_frame(values, CLASSES, HOP_S), expected)
        pd.testing.assert_frame_equal(theirs[clip], expected)


def test_columns_in_another_order_are_reordered(tmp_path, scores):
    table = scores_to_frame(scores["short"], CLASSES, HOP_S)[["onset", "offset", "Speech", "Alarm_bell_ringing", "Dog"]]
    values, hop_s = frame_to_scores(table, CLASSES)
    assert np.array_equal(values, scores["short"].astype(np.float64)) and hop_s == HOP_S


def test_writes_are_atomic_and_replace(tmp_path, scores):
    write_scores(tmp_path, scores, CLASSES, HOP_S)
    write_scores(tmp_path, {"short": np.zeros((3, 2))}, CLASSES, HOP_S)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Y00pbt6aJV8Y_350.000_360.000.tsv", "short.tsv"]
    assert read_scores(tmp_path, CLASSES)[0]["short"].shape == (3, 2)


def test_clip_id_strips_only_wav():
    assert clip_id("Y00pbt6aJV8Y_350.000_360.000.wav") == "Y00pbt6aJV8Y_350.000_360.000"
    assert clip_id("Y00pbt6aJV8Y_350.000_360.000") == "Y00pbt6aJV8Y_350.000_360.000"


HEADER = "onset\toffset\tAlarm_bell_ringing\tDog\tSpeech\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "0.0\t0.064\t0.1\t0.2\t0.3\n0.064\t0.128\t0.1\t\t0.3\n", r"x\.tsv, line 3: column 'Dog' holds nan, not a finite number"),
        (HEADER + "0.0\t0.064\t0.1\tabc\t0.3\n", r"x\.tsv, line 2: column 'Dog' holds 'abc'"),
        (HEADER + "0.0\t0.064\t0.1\t0.2\t0.3\n0.064\t0.128\tinf\t0.2\t0.3\n", r"line 3: column 'Alarm_bell_ringing' holds inf"),
        ("onset\toffset\tAlarm_bell_ringing\tdog\tSpeech\n0.0\t0.064\t0.1\t0.2\t0.3\n", r"class column 'Dog' is missing \(is 'dog' meant to be 'Dog'\?\)"),
        ("onset\toffset\tAlarm_bell_ringing\tSpeech\tBird\n0.0\t0.064\t0.1\t0.2\t0.3\n", r"class column 'Dog' is missing; unexpected column 'Bird'"),
        ("start\tend\tAlarm_bell_ringing\tDog\tSpeech\n0.0\t0.064\t0.1\t0.2\t0.3\n", "first two columns must be 'onset' and 'offset'"),
        (HEADER + "0.0\t0.064\t0.1\t0.2\t0.3\n0.07\t0.134\t0.1\t0.2\t0.3\n", r"line 3: onset 0.07 breaks the regular frame grid \(hop 0.064 s from 0 s: expected 0.064\)"),
        (HEADER + "0.0\t0.064\t0.1\t0.2\t0.3\n0.064\t0.2\t0.1\t0.2\t0.3\n", r"line 3: offset 0.2 breaks the regular frame grid"),
        (HEADER + "0.5\t0.564\t0.1\t0.2\t0.3\n", r"line 2: onset 0.5 breaks the regular frame grid"),
        (HEADER, "no frames"),
    ],
)
def test_bad_files_are_reported_with_file_and_line(tmp_path, text, message):
    write_table(tmp_path / "x.tsv", text)
    with pytest.raises(ValueError, match=message):
        read_scores(tmp_path, CLASSES)


def test_mismatched_hops_between_files(tmp_path):
    write_scores(tmp_path, {"a": np.zeros((3, 4))}, CLASSES, 0.064)
    write_scores(tmp_path, {"b": np.zeros((3, 4))}, CLASSES, 0.032)
    with pytest.raises(ValueError, match=r"b\.tsv: frame hop 0.032 s differs from 0.064 s in .*a\.tsv"):
        read_scores(tmp_path, CLASSES)


def test_missing_or_empty_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="score directory not found"):
        read_scores(tmp_path / "nope", CLASSES)
    with pytest.raises(ValueError, match="no <clip id>.tsv score files"):
        read_scores(tmp_path, CLASSES)


def test_scores_to_frame_checks_the_shape():
    with pytest.raises(ValueError, match=r"shape \(C=3, n_frames\)"):
        scores_to_frame(np.zeros((2, 5)), CLASSES, HOP_S)
