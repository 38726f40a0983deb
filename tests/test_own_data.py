"""Your own data end to end: the command sequence of docs/own-data.md (6 other classes, strong labels only, no
soundbank), and a two-dataset recipe whose strong sets annotate different classes."""

import json
import shlex
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES
from tbfl.data.desed import read_strong_tsv
from tbfl.synth.own import OWN_CLASSES
from tbfl.training.config import recipe_dataset, recipe_from_dict
from tbfl.training.datamodule import DesedDataModule
from tbfl.training.train import train_run
from tbfl.weights import auto_k, time_balanced_weights

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "own-data.md"
MARKER = "<!-- own-data-sequence"


def doc_commands() -> list[list[str]]:
    """The ``tbfl`` lines of the code block after the sequence marker in docs/own-data.md."""
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index(MARKER):].split("```")[1]
    lines = [line.strip() for line in block.splitlines()[1:] if line.strip()]
    assert all(line.startswith("tbfl ") for line in lines)
    return [shlex.split(line)[1:] for line in lines]


@pytest.mark.slow
def test_the_documented_sequence_runs_a_six_class_strong_only_dataset(tmp_path, monkeypatch, capsys):
    (tmp_path / "configs").mkdir()
    shutil.copy(REPO / "configs" / "own6-example.yaml", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    commands = doc_commands()
    assert [command[0] for command in commands] == ["synth", "check", "stats", "train", "evaluate", "detect"]
    outputs = {}
    for command in commands:
        assert main(command) == 0, command
        outputs[command[0]] = capsys.readouterr().out
    classes = list(OWN_CLASSES.values())
    assert len(classes) == 6 and not set(classes) & set(DESED_CLASSES)
    description = yaml.safe_load(Path("data/own6/dataset.yaml").read_text())
    assert description["classes"] == classes and "soundbank" not in description
    assert {entry["role"] for entry in description["sets"].values()} == {"strong", "validation", "evaluation"}
    assert not Path("data/own6/soundbank").exists() and "soundbank: none" in outputs["check"]

    # stats: V_c = distinct training clips holding the class, counted here from the label file
    train = read_strong_tsv("data/own6/metadata/train.tsv", classes).events
    clips = train.groupby("event_label")["filename"].nunique().reindex(classes).tolist()
    rows = {line.split()[0]: line.split() for line in outputs["stats"].splitlines()[2:]}
    assert [int(rows[name][1]) for name in classes] == clips and "V_c = clips with the class (no soundbank)" in outputs["stats"]

    record = json.loads(Path("runs/own6/class_weights.json").read_text())
    assert record["classes"] == classes and record["statistics"]["volumes"] == clips and record["volumes_from"] == "labels"
    assert len(record["weights"]) == 6 and np.isclose(sum(record["weights"]), 6)
    ratios = record["statistics"]["frame_ratios"]
    assert record["k"]["auto"] and record["k"]["chosen"] == auto_k(clips, ratios)  # k: auto on the label-derived V_c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # floor(k r_c) = 0 for a class at this small k: the documented rule, with a warning
        assert np.allclose(record["weights"], time_balanced_weights(clips, ratios, record["k"]["chosen"]))
    checkpoint = torch.load(next(Path("runs/own6/checkpoints").glob("best-*.ckpt")), map_location="cpu", weights_only=False)
    assert list(checkpoint["hyper_parameters"]["classes"]) == classes
    assert checkpoint["state_dict"]["student.strong_head.weight"].shape[0] == 6
    metrics = json.loads(Path("runs/own6/metrics.json").read_text())
    test_events = read_strong_tsv("data/own6/metadata/test.tsv", classes).events
    assert metrics["settings"]["classes"] == classes and metrics["n_events"] == len(test_events)  # the evaluation set was scored
    header = next(Path("runs/own6/scores/validation").glob("*.tsv")).read_text().splitlines()[0].split("\t")
    assert header[2:] == classes  # onset, offset, then the dataset's classes
    detections = pd.read_csv("runs/own6/detections.tsv", sep="\t")
    assert set(detections["event_label"]) <= set(classes)
    assert set(detections["filename"]) <= {p.name for p in Path("data/own6/audio/test").iterdir()}

    # ground truth with a class the run's score files do not have: one line naming the file and line, exit 2
    Path("other.tsv").write_text("filename\tonset\toffset\tevent_label\nvalidation_00000.wav\t0.0\t1.0\tDog\n")
    assert main(["evaluate", "--scores", "runs/own6/scores/validation", "--ground-truth", "other.tsv",
                 "--durations", "data/own6/metadata/test_durations.tsv", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "other.tsv:2: unknown event_label 'Dog'" in err

    # the same run resumed on a description with other classes: one line naming the checkpoint, exit 2
    description["classes"] = classes[::-1]
    Path("data/own6/dataset.yaml").write_text(yaml.safe_dump(description))
    assert main(["train", "--config", "configs/own6-example.yaml", "--out", "runs/own6", "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "runs/own6/checkpoints/last.ckpt: the checkpoint's classes" in err and "data/own6/dataset.yaml" in err


TINY_MODEL = {
    "features": {"n_mels": 64, "hop_length": 512},
    "model": {"n_mels": 64, "filters": [4, 8, 8, 16, 16, 16], "pooling": [[1, 2], [2, 2], [1, 2], [1, 2], [1, 2], [1, 2]],
              "rnn_hidden": 8, "attention_softmax": "classes"},
    "training": {"max_epochs": 1, "batch_sizes": [4, 4, 4], "rampup_epochs": 1, "epoch_mode": "max_size_cycle", "log_every_n_steps": 1},
}


def two_dataset_recipe(tiny_root: Path, folder: Path) -> dict:
    """The tiny DESED tree as two strong datasets: ``a`` (first half of the clips) annotates every class but Speech,
    ``b`` (second half) every class; weak, unlabeled, validation and evaluation sets as DESED's."""
    strong = read_strong_tsv(tiny_root / "metadata/train/synthetic21_train/soundscapes.tsv")
    names = list(strong.filenames)
    half = len(names) // 2
    for part, clips, drop in (("a", names[:half], "Speech"), ("b", names[half:], None)):
        events = strong.events.loc[strong.events["filename"].isin(clips) & (strong.events["event_label"] != drop)]
        events.to_csv(folder / f"{part}.tsv", sep="\t", index=False, float_format="%.3f")
    audio = "audio/train/synthetic21_train/soundscapes_16k"
    description = {
        "classes": list(DESED_CLASSES),
        "soundbank": "soundbank/audio/train/foreground",
        "sets": {
            "a": {"role": "strong", "audio": audio, "labels": str(folder / "a.tsv"), "classes": [c for c in DESED_CLASSES if c != "Speech"]},
            "b": {"role": "strong", "audio": audio, "labels": str(folder / "b.tsv")},
            "weak": {"role": "weak", "audio": "audio/train/weak_16k", "labels": "metadata/train/weak.tsv"},
            "unlabeled": {"role": "unlabeled", "audio": "audio/train/unlabel_in_domain_16k", "labels": "metadata/train/unlabel_in_domain.tsv"},
            "val": {"role": "validation", "audio": "audio/validation/synthetic21_validation/soundscapes_16k",
                    "labels": "metadata/validation/synthetic21_validation/soundscapes.tsv"},
            "test": {"role": "evaluation", "audio": "audio/validation/validation_16k", "labels": "metadata/validation/validation.tsv"},
        },
    }
    return {**TINY_MODEL, "data": {"root": str(tiny_root), "dataset": description, "cache_dir": str(folder / "cache")},
            "loss": {"name": "tbfl", "k": 1000}}


def test_two_strong_datasets_with_different_classes_get_their_masks(tiny_root, tmp_path):
    recipe = recipe_from_dict(two_dataset_recipe(tiny_root, tmp_path))
    datamodule = DesedDataModule(recipe_dataset(recipe), frame_grid=recipe.frame_grid, cache_dir=tmp_path / "cache")
    sets = datamodule.load_sets()
    strong = sets["strong_train"]
    a_clips = set(pd.read_csv(tmp_path / "a.tsv", sep="\t")["filename"])
    speech = DESED_CLASSES.index("Speech")
    for name, mask, targets in zip(strong.filenames, strong.mask, strong.strong):
        assert mask[speech] == (0.0 if name in a_clips else 1.0) and np.delete(mask, speech).all()
        if name in a_clips:
            assert not targets[speech].any()  # a's Speech events were dropped: masked, not taught as absent
    assert len(strong) == 16 and sets["weak_train"].mask.all() and "unlabeled_train" in sets and "weak_validation" in sets


def test_strong_and_weak_without_unlabeled_batches_two_sub_batches(tiny_root, tmp_path):
    values = two_dataset_recipe(tiny_root, tmp_path)
    del values["data"]["dataset"]["sets"]["unlabeled"]
    recipe = recipe_from_dict(values)
    datamodule = DesedDataModule(recipe_dataset(recipe), frame_grid=recipe.frame_grid, batch_sizes=(4, 4, 4), cache_dir=tmp_path / "cache")
    datamodule.setup()
    batch, _, _ = next(iter(datamodule.train_dataloader()))
    assert set(batch) == {"strong", "weak"} and "unlabeled_train" not in datamodule.sets
    features, targets, mask, index = batch["strong"]
    assert targets.shape[:2] == mask.shape == (4, 10) and features.shape[0] == index.shape[0] == 4


@pytest.mark.slow
def test_a_two_dataset_recipe_trains_and_evaluates(tiny_root, tmp_path):
    recipe = recipe_from_dict(two_dataset_recipe(tiny_root, tmp_path))
    result = train_run(recipe, tmp_path / "run", progress=False)
    assert "psds1" in result.metrics and (tmp_path / "run" / "weak_validation_logits.npz").is_file()
    record = json.loads((tmp_path / "run" / "class_weights.json").read_text())
    assert record["classes"] == list(DESED_CLASSES) and record["volumes_from"] == "soundbank"
    log = pd.read_csv(tmp_path / "run" / "logs" / "metrics.csv")
    assert np.isfinite(log["train/strong_loss"].dropna()).all() and np.isfinite(log["train/weak_loss"].dropna()).all()


@pytest.mark.slow
def test_strong_only_training_without_weak_or_unlabeled_sets(tiny_root, tmp_path):
    values = two_dataset_recipe(tiny_root, tmp_path)
    sets = values["data"]["dataset"]["sets"]
    del sets["weak"], sets["unlabeled"], sets["b"]
    sets["a"]["classes"] = None  # a alone, every class annotated: Speech has no strong event but the soundbank gives V_c
    result = train_run(recipe_from_dict(values), tmp_path / "run", progress=False)
    assert "psds1" in result.metrics and not (tmp_path / "run" / "weak_validation_logits.npz").exists()
    log = pd.read_csv(tmp_path / "run" / "logs" / "metrics.csv")
    assert (log["train/weak_loss"].dropna() == 0).all() and (log["train/consistency"].dropna() >= 0).all()
