"""The release layout (names, 44.1 kHz fallback, errors), present-clip filtering and the baseline's weak split."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tbfl.data.present import clip_durations_s, keep_present, present_strong_labels
from tbfl.data.desed import StrongLabels, read_weak_tsv
from tbfl.data.layout import DesedLayout, LayoutError
from tbfl.training.datamodule import weak_split

REAL = Path(__file__).parent / "desed-metadata"

#: DESED_task recipes/dcase2021_task4_baseline/confs/sed.yaml, below its "../../data/dcase2021/dataset/".
SED_YAML = {
    "synth_train_audio": "audio/train/synthetic21_train/soundscapes_16k",
    "synth_train_tsv": "metadata/train/synthetic21_train/soundscapes.tsv",
    "weak_audio": "audio/train/weak_16k",
    "weak_tsv": "metadata/train/weak.tsv",
    "unlabeled_audio": "audio/train/unlabel_in_domain_16k",
    "synth_val_audio": "audio/validation/synthetic21_validation/soundscapes_16k",
    "synth_val_tsv": "metadata/validation/synthetic21_validation/soundscapes.tsv",
    "synth_val_durations_tsv": "metadata/validation/synthetic21_validation/durations.tsv",
    "validation_audio": "audio/validation/validation_16k",
    "validation_tsv": "metadata/validation/validation.tsv",
    "validation_durations_tsv": "metadata/validation/validation_durations.tsv",
}


def test_defaults_are_the_release_names():
    defaults = DesedLayout.relative_paths()
    assert {key: defaults[key] for key in SED_YAML} == SED_YAML
    layout = DesedLayout("/d")
    assert layout.original_audio_dir("synth_train_audio") == Path("/d/audio/train/synthetic21_train/soundscapes")
    assert layout.original_audio_dir("validation_audio") == Path("/d/audio/validation/validation")


def test_audio_dir_falls_back_to_the_44k_folder_and_names_the_key(tmp_path):
    layout = DesedLayout(tmp_path)
    with pytest.raises(LayoutError) as error:
        layout.audio_dir("weak_audio")
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'audio/train/weak_16k'}: audio folder not found nor {tmp_path / 'audio/train/weak'}")
    assert "layout entry 'weak_audio'" in message and "data.layout.weak_audio" in message
    (tmp_path / "audio/train/weak").mkdir(parents=True)
    assert layout.audio_dir("weak_audio") == tmp_path / "audio/train/weak"
    (tmp_path / "audio/train/weak_16k").mkdir()
    assert layout.audio_dir("weak_audio") == tmp_path / "audio/train/weak_16k"  # the resampled folder wins
    custom = DesedLayout.from_config(tmp_path, {"unlabeled_audio": "mine"})
    with pytest.raises(LayoutError, match=r"mine: audio folder not found \(layout entry"):
        custom.audio_dir("unlabeled_audio")


def test_keep_present_warns_once_with_the_counts(tmp_path):
    for name in ("a.wav", "c.flac", ".hidden.wav", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    with pytest.warns(UserWarning) as caught:
        kept = keep_present("validation", ["a.wav", "b.wav", "c.flac", "d.wav", ".hidden.wav"], tmp_path)
    assert kept == ["a.wav", "c.flac"]
    assert len(caught) == 1
    assert str(caught[0].message) == f"validation: 2 of 5 clips present in {tmp_path}; 3 missing (b.wav, d.wav, .hidden.wav); `tbfl check` lists them"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert keep_present("x", ["a.wav"], tmp_path) == ["a.wav"]


def test_present_strong_labels_and_durations(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "c.wav").write_bytes(b"")
    events = pd.DataFrame({"filename": ["a.wav", "b.wav"], "onset": [0.0, 1.0], "offset": [1.0, 2.0], "event_label": ["Dog", "Cat"]})
    with pytest.warns(UserWarning, match="2 of 3 clips present"):
        labels = present_strong_labels("v", StrongLabels(events, ("a.wav", "b.wav", "c.wav")), tmp_path)
    assert labels.filenames == ("a.wav", "c.wav") and labels.events["filename"].tolist() == ["a.wav"]
    tsv = tmp_path / "durations.tsv"
    tsv.write_text("filename\tduration\na.wav\t10.0\nb.wav\t9.5\n")
    assert clip_durations_s(tsv, ["a.wav"], tmp_path) == {"a.wav": 10.0}
    with pytest.raises(ValueError, match=r"durations.tsv: no duration for 1 clip\(s\) with audio \(c.wav\)"):
        clip_durations_s(tsv, ["a.wav", "c.wav"], tmp_path)


def test_weak_split_is_the_baselines_pandas_draw():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 real rows repeat a label
        weak = read_weak_tsv(REAL / "weak.tsv")
    train, validation = weak_split(weak, 0.1, 42)
    assert (len(weak), len(train), len(validation)) == (1578, 1420, 158)
    raw = pd.read_csv(REAL / "weak.tsv", sep="\t")  # train_sed.py: weak_df.sample(frac=0.9, random_state=42)
    baseline_train = raw.sample(frac=0.9, random_state=42)
    baseline_validation = raw.drop(baseline_train.index)
    assert weak["filename"].iloc[validation].tolist() == baseline_validation["filename"].tolist()
    assert set(weak["filename"].iloc[train]) == set(baseline_train["filename"])
    assert np.array_equal(train, np.sort(train)) and not set(train) & set(validation)


def test_audit_set_lists_unreadable_files_and_flags_a_set_without_audio(tmp_path):
    import soundfile as sf

    from tbfl.data.audit import audit_set
    from tbfl.data.dataset import desed2021

    layout = DesedLayout(tmp_path)
    weak = next(s for s in desed2021(layout).sets if s.name == "weak")
    layout.path("weak_tsv").parent.mkdir(parents=True)
    layout.path("weak_tsv").write_text("filename\tevent_labels\na.wav\tDog\nb.wav\tCat,Dog\nc.wav\t\n")
    folder = layout.path("weak_audio")
    folder.mkdir(parents=True)
    sf.write(folder / "a.wav", np.zeros((8000, 2), np.float32), 8000)
    (folder / "b.wav").write_bytes(b"RIFF not audio")
    audit = audit_set(weak)
    assert (audit.n_listed, audit.n_present, audit.missing, audit.extra) == (3, 2, ["c.wav"], [])
    assert list(audit.unreadable) == ["b.wav"] and audit.sample_rates_hz == {8000: 1} and audit.channels == {2: 1}
    assert audit.duration_s == {"min": 1.0, "max": 1.0, "mean": 1.0} and audit.usable
    (folder / "a.wav").unlink()
    assert audit_set(weak).problem == f"{folder}: none of the 1 clips with audio is readable"
    (folder / "b.wav").unlink()
    assert audit_set(weak).problem == f"{folder}: none of the 3 listed clips has audio here"


def test_an_invalid_label_file_makes_the_set_unusable_with_file_and_line(tmp_path):
    from tbfl.data.audit import audit_set
    from tbfl.data.dataset import desed2021

    layout = DesedLayout(tmp_path)
    layout.path("weak_tsv").parent.mkdir(parents=True)
    layout.path("weak_tsv").write_text("filename\tevent_labels\na.wav\tDog\na.wav\tCat\n")
    audit = audit_set(next(s for s in desed2021(layout).sets if s.name == "weak"))
    assert audit.problem == f"{layout.path('weak_tsv')}:3: duplicate clip (first on line 2)" and not audit.usable


def test_check_reports_symlink_loops_and_dangling_links(tiny_root, tmp_path, capsys):
    """Regression: a symbolic link loop aborted `tbfl check`, and a dangling .wav link was silently ignored."""
    import json
    import shutil

    from tbfl.cli import main

    root = tmp_path / "desed"
    shutil.copytree(tiny_root, root)
    weak = root / "audio" / "train" / "weak_16k"
    listed = sorted(weak.glob("*.wav"))[0].name
    (weak / listed).unlink()
    (weak / listed).symlink_to("moved-away.wav")  # a listed clip whose link leads nowhere
    (weak / "loop.wav").symlink_to("loop.wav")
    assert main(["check", str(root), "--out", str(tmp_path / "check.json")]) == 0
    out = capsys.readouterr().out
    assert f"weak: unreadable {listed}: broken symbolic link to moved-away.wav (No such file or directory)" in out
    assert "weak: unreadable loop.wav: broken symbolic link to loop.wav (Too many levels of symbolic links)" in out
    weak_audit = json.loads((tmp_path / "check.json").read_text())["sets"]["weak"]
    assert listed not in weak_audit["missing"] and set(weak_audit["unreadable"]) == {listed, "loop.wav"}
