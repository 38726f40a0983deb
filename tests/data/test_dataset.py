"""The dataset description: DESED 2021 as the default, own descriptions inline or in a file, and their errors."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES
from tbfl.data.dataset import DatasetError, desed2021, load_dataset
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.training.config import recipe_dataset, recipe_from_dict

from .conftest import write_wav

CLASSES = ["Kettle", "Doorbell", "Typing"]


def _write_own(root: Path, labels: dict[str, list[tuple]], description: dict | None = None) -> Path:
    """A strongly labelled dataset with ``CLASSES``: one audio folder and label file per set, and its description file."""
    for name, rows in labels.items():
        (root / "metadata").mkdir(parents=True, exist_ok=True)
        with open(root / "metadata" / f"{name}.tsv", "w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["filename", "onset", "offset", "event_label"])
            writer.writerows(rows)
        for filename in {row[0] for row in rows}:
            write_wav(root / "audio" / name / filename, 2.0)
    description = description or {
        "classes": CLASSES,
        "sets": {
            "train": {"role": "strong", "audio": "audio/train", "labels": "metadata/train.tsv"},
            "val": {"role": "validation", "audio": "audio/val", "labels": "metadata/val.tsv"},
        },
    }
    path = root / "dataset.yaml"
    path.write_text(yaml.safe_dump(description))
    return path


TRAIN = [
    ("a.wav", 0.0, 0.5, "Kettle"), ("a.wav", 1.0, 1.5, "Kettle"), ("a.wav", 0.2, 0.4, "Typing"),
    ("b.wav", 0.0, 1.0, "Kettle"), ("b.wav", 0.5, 0.7, "Doorbell"), ("c.wav", 0.0, 2.0, "Typing"),
]
VAL = [("v.wav", 0.0, 1.0, "Doorbell")]


def test_desed2021_is_the_default_description(tmp_path):
    layout = DesedLayout(tmp_path, weak_tsv="labels/weak.tsv")
    dataset = load_dataset(tmp_path, None, {"weak_tsv": "labels/weak.tsv"})
    assert dataset == desed2021(layout) and dataset.classes == DESED_CLASSES
    assert [(s.name, s.role) for s in dataset.sets] == [
        ("synth_train", "strong"), ("weak", "weak"), ("unlabeled", "unlabeled"), ("synth_validation", "validation"), ("validation", "evaluation")
    ]
    assert dataset.by_role("weak")[0].labels == tmp_path / "labels" / "weak.tsv"
    assert dataset.validation.durations == layout.path("synth_val_durations_tsv") and dataset.evaluation.name == "validation"
    assert dataset.soundbank == layout.path("soundbank_foreground")
    assert recipe_dataset(recipe_from_dict({"data": {"root": str(tmp_path)}})) == desed2021(DesedLayout(tmp_path))


def test_inline_and_file_descriptions_are_the_same(tmp_path):
    path = _write_own(tmp_path, {"train": TRAIN, "val": VAL})
    from_file = load_dataset(tmp_path, path)
    inline = load_dataset(tmp_path, yaml.safe_load(path.read_text()))
    assert from_file.sets == inline.sets and from_file.classes == tuple(CLASSES) and from_file.soundbank is None
    assert from_file.evaluation == from_file.validation  # no evaluation set: the validation set is scored
    assert from_file.by_role("strong")[0].audio == tmp_path / "audio" / "train"


def test_partial_annotation_gives_the_class_mask(tmp_path):
    description = {
        "classes": CLASSES,
        "sets": {
            "train": {"role": "strong", "audio": "a", "labels": "t.tsv", "classes": ["Typing", "Kettle"]},
            "val": {"role": "validation", "audio": "v", "labels": "v.tsv"},
        },
    }
    dataset = load_dataset(tmp_path, description)
    train = dataset.by_role("strong")[0]
    assert train.classes == ("Kettle", "Typing")  # the dataset's order
    assert train.class_mask(dataset.classes).tolist() == [1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(classes=["Kettle", "Doorbell", "Kettle"]), "classes: duplicate class name 'Kettle'"),
        (lambda d: d["sets"]["train"].update(classes=["Kettle", "Siren"]), "sets.train.classes: ['Siren'] not in the dataset's classes"),
        (lambda d: d["sets"]["train"].update(role="strongly"), "sets.train.role: 'strongly' is not one of"),
        (lambda d: d["sets"]["train"].update(role="weak"), "sets: no set with role 'strong'"),
        (lambda d: d["sets"].update(val2=d["sets"]["val"]), "exactly one set needs role 'validation' (it selects checkpoints), found 2"),
        (lambda d: d["sets"]["train"].update(label="x.tsv"), "sets.train: unknown key(s) ['label']"),
        (lambda d: d["sets"]["val"].update(classes=["Kettle"]), "sets.val.classes: a validation set must annotate every class"),
        (lambda d: d.update(clases=[]), "unknown key(s) ['clases']"),
    ],
)
def test_bad_descriptions_are_one_line_naming_file_and_key(tmp_path, capsys, change, message):
    path = _write_own(tmp_path, {"train": TRAIN, "val": VAL})
    description = yaml.safe_load(path.read_text())
    change(description)
    path.write_text(yaml.safe_dump(description))
    for command in ("check", "stats"):
        assert main([command, str(tmp_path), "--dataset-config", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{path}: " in err and message in err
    with pytest.raises(DatasetError, match="data.dataset: "):  # inline in a recipe: the recipe key is named
        recipe_from_dict({"data": {"root": str(tmp_path), "dataset": description}}, where="recipe.yaml")


@pytest.mark.parametrize(
    "labels, description_change, message",
    [
        ({"train": TRAIN + [("c.wav", 0.1, 0.2, "Siren")], "val": VAL}, None, "train.tsv:8: unknown event_label 'Siren'; known labels: Kettle, Doorbell, Typing"),
        ({"train": TRAIN, "val": VAL}, lambda d: d["sets"]["train"].update(classes=["Kettle", "Typing"]), "train.tsv:6: unknown event_label 'Doorbell'; known labels: Kettle, Typing"),
        ({"train": [row for row in TRAIN if row[3] != "Doorbell"], "val": VAL}, None, "no strong training event of class(es) ['Doorbell']"),
    ],
)
def test_bad_labels_are_one_line_naming_the_file(tmp_path, capsys, labels, description_change, message):
    path = _write_own(tmp_path, labels)
    if description_change:
        description = yaml.safe_load(path.read_text())
        description_change(description)
        path.write_text(yaml.safe_dump(description))
    assert main(["stats", str(tmp_path), "--dataset-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "train.tsv" in err


def test_label_volumes_count_distinct_clips_and_rc_counts_frames(tmp_path, capsys):
    path = _write_own(tmp_path, {"train": TRAIN, "val": VAL})
    stats = measure_stats(load_dataset(tmp_path, path), n_frames=20, frame_hop_s=0.1)
    clips = {c: len({row[0] for row in TRAIN if row[3] == c}) for c in CLASSES}
    events = {c: sum(row[3] == c for row in TRAIN) for c in CLASSES}
    assert stats.volumes_from == "labels" and stats.volumes.tolist() == [clips[c] for c in CLASSES] == [2, 1, 2]
    assert stats.label_volumes.tolist() == stats.volumes.tolist() and stats.n_events.tolist() == [events[c] for c in CLASSES]
    # frames on a 0.1 s grid: Kettle a 0-5 + 10-15, b 0-10 = 20; Doorbell b 5-7 = 2; Typing a 2-4, c 0-20 = 22
    assert np.allclose(stats.frame_ratios, np.array([20, 2, 22]) / 44)
    assert np.isnan(stats.avg_source_length_s).all()
    assert main(["stats", str(tmp_path), "--dataset-config", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["classes"] == CLASSES and report["volumes_from"] == "labels" and report["label_volumes"] == [2, 1, 2]


def test_stats_reports_soundbank_and_label_volumes_where_both_exist(tiny_layout, capsys):
    stats = measure_stats(tiny_layout)
    assert stats.volumes_from == "soundbank"
    assert stats.label_volumes[DESED_CLASSES.index("Dog")] == 2 and stats.volumes[DESED_CLASSES.index("Dog")] == 3
    assert main(["stats", str(tiny_layout.root)]) == 0
    out = capsys.readouterr().out
    assert "V_c = soundbank files" in out.splitlines()[0] and " clips " in out.splitlines()[1]


def test_check_audits_every_set_of_a_description(tmp_path, capsys):
    path = _write_own(tmp_path, {"train": TRAIN, "val": VAL})
    (tmp_path / "audio" / "train" / "b.wav").unlink()
    assert main(["check", str(tmp_path), "--dataset-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "3 classes: Kettle, Doorbell, Typing" in out and "soundbank: none in the description" in out
    assert "train: 2 of 3 clips present; missing: b.wav" in out


def test_check_counts_the_background_where_the_layout_puts_it(tiny_layout, tmp_path):
    moved = tiny_layout.root / "bg" / "sub"
    for name in ("a.wav", "b.wav"):
        write_wav(moved / name, 1.0)
    config = tmp_path / "layout.yaml"
    config.write_text("soundbank_background: bg\n")
    out = tmp_path / "check.json"
    main(["check", str(tiny_layout.root), "--layout-config", str(config), "--out", str(out)])
    assert json.loads(out.read_text())["soundbank"]["n_background"] == 2
    main(["check", str(tiny_layout.root), "--out", str(out)])  # the default folder is not there
    assert json.loads(out.read_text())["soundbank"]["n_background"] == 0
