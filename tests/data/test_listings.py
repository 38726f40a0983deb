"""One folder rule and one listing rule, read the same way by every reader.

The soundbank's ``<Class>_nOn``, ``_nOff`` and ``_nOn_nOff`` folders belong to ``<Class>`` for the dataset
statistics (V_c), ``tbfl check`` and the synth soundbank index alike; hidden files (``.DS_Store``, macOS
``._x.wav`` resource forks, which do not decode) are skipped by every folder listing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tbfl.data.audio import audio_files
from tbfl.data.audit import audit_set, audit_soundbank, CLIP_SETS
from tbfl.data.layout import DesedLayout
from tbfl.data.present import keep_present
from tbfl.data.soundbank import class_folders, class_of_folder
from tbfl.data.stats import soundbank_volumes
from tbfl.evaluation.operating_points import read_operating_points
from tbfl.evaluation.scores import read_score_tables, write_scores
from tbfl.inference import input_files
from tbfl.synth.soundbank import index_background, index_foreground

SR = 16000
#: Foreground folder -> number of audio files; classes as the folders say, including one that is not DESED's.
FOLDERS = {"Blender": 2, "Blender_nOn_nOff": 3, "Blender_nOff": 1, "Dog_nOn": 2, "Dog": 1, "Toaster_nOn_nOff": 2}
EXPECTED = {"Blender": 6, "Dog": 3, "Toaster": 2}


def _wav(path: Path, seconds: float = 0.5) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.1 * np.ones(int(seconds * SR), np.float32), SR)


def _fork(path: Path) -> None:
    """A macOS resource fork: an audio-looking name that is not audio."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00\x05\x16\x07 Mac OS X resource fork")


@pytest.fixture
def tree(tmp_path) -> DesedLayout:
    layout = DesedLayout(tmp_path / "dataset")
    foreground = layout.path("soundbank_foreground")
    for folder, n in FOLDERS.items():
        for i in range(n):
            _wav(foreground / folder / f"{folder}_{i}.wav")
        _fork(foreground / folder / f"._{folder}_0.wav")
    _fork(foreground / ".Trash" / "Dog_x.wav")  # a hidden folder is no class
    background = layout.path("soundbank_background")
    _wav(background / "street" / "a.wav", 1.0)
    _fork(background / "street" / "._a.wav")
    _wav(background / ".cache" / "b.wav", 1.0)  # under a hidden folder
    return layout


def test_the_folder_rule_strips_every_variant_suffix_of_any_class():
    assert [class_of_folder(name) for name in ("Blender_nOn_nOff", "Blender_nOff_nOn", "Dog_nOn", "Frying_nOff", "Toaster", "Cat_nOn_nOff")] == [
        "Blender", "Blender", "Dog", "Frying", "Toaster", "Cat"]
    assert class_of_folder("nOn_Dog") == "nOn_Dog"  # only a suffix marks a variant


def test_nOn_nOff_folders_count_for_their_class_in_stats_check_and_synth(tree):
    foreground = tree.path("soundbank_foreground")
    assert sorted(name for name, _ in class_folders(foreground)) == sorted(class_of_folder(f) for f in FOLDERS)
    classes = tuple(EXPECTED)
    volumes, lengths_s = soundbank_volumes(foreground, classes)
    assert dict(zip(classes, volumes.tolist())) == EXPECTED
    np.testing.assert_allclose(lengths_s, 0.5)
    audit = audit_soundbank(tree, classes)
    assert audit.files_per_class == EXPECTED and audit.unknown_folders == [] and audit.n_background == 1
    indexed = index_foreground(foreground)
    assert Counter(source.label for source in indexed) == Counter(EXPECTED)
    assert [source.label for source in indexed] == ["Blender"] * 6 + ["Dog"] * 3 + ["Toaster"] * 2  # DESED's order, then by name
    assert [source.label for source in index_background(tree.path("soundbank_background"))] == ["street"]


def test_hidden_files_are_skipped_by_every_audio_listing(tree, tmp_path):
    folder = tree.path("soundbank_foreground") / "Dog"
    assert [path.name for path in audio_files(folder)] == ["Dog_0.wav"]
    assert [path.name for path in audio_files(tree.path("soundbank_background"), recursive=True)] == ["a.wav"]
    assert [path.name for path in input_files([tree.path("soundbank_background")])] == ["a.wav"]
    assert keep_present("dog", ["Dog_0.wav"], folder) == ["Dog_0.wav"]
    with pytest.warns(UserWarning, match="1 of 2 clips present"):  # a hidden fork is not the clip's audio
        assert keep_present("dog", ["Dog_0.wav", "._Dog_0.wav"], folder) == ["Dog_0.wav"]
    spec = next(spec for spec in CLIP_SETS if spec.labels == "unlabeled")
    audio_dir = tree.path(spec.audio)
    _wav(audio_dir / "Y1.wav")
    _fork(audio_dir / "._Y1.wav")
    tree.path(spec.tsv).parent.mkdir(parents=True, exist_ok=True)
    tree.path(spec.tsv).write_text("filename\nY1.wav\n")
    audit = audit_set(tree, spec)
    assert (audit.n_present, audit.extra, audit.unreadable, audit.problem) == (1, [], {}, None)


def test_hidden_files_are_skipped_in_score_and_operating_point_folders(tmp_path):
    classes = ("Dog", "Cat")
    write_scores(tmp_path / "scores", {"Y1": np.full((2, 4), 0.25)}, classes, 0.5)
    (tmp_path / "scores" / "._Y1.tsv").write_bytes(b"\x00\x05\x16\x07")
    scores, _, read_classes = read_score_tables(tmp_path / "scores")
    assert list(scores) == ["Y1"] and read_classes == classes
    points = tmp_path / "points"
    points.mkdir()
    pd.DataFrame({"filename": ["Y1.wav"], "onset": [0.0], "offset": [1.0], "event_label": ["Dog"]}).to_csv(points / "0.5.tsv", sep="\t", index=False)
    (points / "._0.5.tsv").write_bytes(b"\x00\x05\x16\x07")
    assert list(read_operating_points(points, classes)) == [0.5]
