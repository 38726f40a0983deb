"""End to end on a DESED-2021-shaped tree: the release's folder names, the real label files (a subset of their
clips, rows copied verbatim), generated audio, the validation audio only at 44.1 kHz, a few clips missing and no
validation_durations.tsv (as the real metadata): tbfl check, tbfl stats, tbfl train and tbfl evaluate."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from tbfl.cli import main
from tbfl.data.desed import read_weak_tsv
from tbfl.data.layout import DesedLayout
from tbfl.training.datamodule import weak_split

REAL = Path(__file__).parent / "data" / "desed-metadata"
N_WEAK, N_UNLABELED, N_VALIDATION = 30, 12, 8


def _head_clips(tsv: Path, n_clips: int, extra: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """The header and every row of the first ``n_clips`` clips of a real label file (plus the clips ``extra``), verbatim."""
    lines = tsv.read_text().splitlines()
    order = list(dict.fromkeys(line.split("\t")[0] for line in lines[1:]))
    keep = set(order[:n_clips]) | set(extra)
    return lines[0], [line for line in lines[1:] if line.split("\t")[0] in keep]


def _write_rows(path: Path, header: str, rows: list[str]) -> list[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    return list(dict.fromkeys(row.split("\t")[0] for row in rows))


def _write_audio(folder: Path, names: list[str], sample_rate: int, seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        sf.write(folder / name, (0.05 * rng.standard_normal(10 * sample_rate)).astype(np.float32), sample_rate)


@pytest.fixture(scope="module")
def release(tiny_root, tmp_path_factory):
    """The tree, and the clips removed from each set."""
    root = tmp_path_factory.mktemp("release") / "dataset"
    layout = DesedLayout(root)
    for entry in ("synth_train_audio", "synth_train_tsv", "synth_val_audio", "synth_val_tsv", "synth_val_durations_tsv"):
        source, target = DesedLayout(tiny_root).path(entry), layout.path(entry)
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    shutil.copytree(DesedLayout(tiny_root).root / "soundbank", root / "soundbank")

    weak = _write_rows(layout.path("weak_tsv"), *_head_clips(REAL / "weak.tsv", N_WEAK))
    unlabeled = _write_rows(layout.path("unlabeled_tsv"), *_head_clips(REAL / "unlabel_in_domain.tsv", N_UNLABELED))
    no_event_clip = "YU0Cg_t_3TdI_30.000_40.000.wav"  # one of the 15 real clips without events
    validation = _write_rows(layout.path("validation_tsv"), *_head_clips(REAL / "validation.tsv", N_VALIDATION, (no_event_clip,)))
    _write_audio(layout.path("weak_audio"), weak, 16000, 1)
    _write_audio(layout.path("unlabeled_audio"), unlabeled, 16000, 2)
    _write_audio(layout.original_audio_dir("validation_audio"), validation, 44100, 3)  # only the release's 44.1 kHz folder

    train_rows, validation_rows = weak_split(read_weak_tsv(layout.path("weak_tsv")), 0.1, 42)
    removed = {
        "weak": sorted([weak[train_rows[0]], weak[validation_rows[0]]]),  # one held-out clip of each part
        "unlabeled": [unlabeled[-1]],
        "synth_train": ["synth_train_00003.wav"],
    }
    folders = {"weak": "weak_audio", "unlabeled": "unlabeled_audio", "synth_train": "synth_train_audio"}
    for name, clips in removed.items():
        for clip in clips:
            (layout.path(folders[name]) / clip).unlink()
    _write_audio(layout.path("weak_audio"), ["Yextra_0.000_10.000.wav"], 16000, 4)  # in no label file
    return layout, removed, {"weak": weak, "unlabeled": unlabeled, "validation": validation}


def test_check_reports_exactly_the_removed_clips(release, tmp_path, capsys):
    layout, removed, listed = release
    assert main(["check", str(layout.root), "--out", str(tmp_path / "check.json")]) == 0
    printed = capsys.readouterr().out
    manifest = json.loads((tmp_path / "check.json").read_text())
    assert manifest["usable"] is True
    sets = manifest["sets"]
    for name in ("synth_train", "weak", "unlabeled", "synth_validation", "validation"):
        assert sorted(sets[name]["missing"]) == removed.get(name, []), name
        assert sets[name]["n_present"] == sets[name]["n_listed"] - len(removed.get(name, []))
        assert sets[name]["unreadable"] == {}
    assert sets["weak"]["n_listed"] == N_WEAK and sets["unlabeled"]["n_listed"] == N_UNLABELED
    assert sets["validation"]["n_listed"] == N_VALIDATION + 1 == len(listed["validation"])
    assert sets["weak"]["extra"] == ["Yextra_0.000_10.000.wav"]
    assert sets["validation"]["audio_dir"] == str(layout.root / "audio/validation/validation")
    assert sets["validation"]["sample_rates_hz"] == {"44100": N_VALIDATION + 1}
    assert sets["synth_train"]["sample_rates_hz"] == {"16000": 15} and sets["weak"]["channels"] == {"1": N_WEAK - 2}
    assert sets["validation"]["duration_s"] == {"min": 10.0, "max": 10.0, "mean": 10.0}
    assert "measured from the audio" in sets["validation"]["durations_note"]
    assert sum(manifest["soundbank"]["files_per_class"].values()) == 30
    line = next(line for line in printed.splitlines() if line.startswith("weak: "))
    assert line.startswith(f"weak: {N_WEAK - 2} of {N_WEAK} clips present; missing: ") and all(clip in line for clip in removed["weak"])
    assert "resampled to 16 kHz when cached" in printed and "usable: every set" in printed


def test_check_exits_1_when_a_set_is_unusable(release, tmp_path, capsys):
    layout, _, _ = release
    config = tmp_path / "layout.yaml"
    config.write_text(yaml.safe_dump({"unlabeled_audio": "audio/train/nowhere_16k"}))
    assert main(["check", str(layout.root), "--layout-config", str(config), "--out", str(tmp_path / "c.json")]) == 1
    printed = capsys.readouterr().out
    assert f"UNUSABLE unlabeled: {layout.root / 'audio/train/nowhere_16k'}: audio folder not found" in printed
    assert "layout entry 'unlabeled_audio'" in printed


def test_stats_counts_the_present_clips(release, capsys):
    layout, _, _ = release
    assert main(["stats", str(layout.root), "--json"]) == 0
    captured = capsys.readouterr()
    assert "tbfl stats: warning: synth_train: 15 of 16 clips present" in captured.err
    strong = pd.read_csv(layout.path("synth_train_tsv"), sep="\t").dropna()
    kept = strong[strong["filename"] != "synth_train_00003.wav"]
    assert sum(json.loads(captured.out)["n_events"]) == len(kept) < len(strong)


@pytest.mark.slow  # trains a tiny model
def test_train_and_evaluate_on_the_release_tree(release, make_recipe, tmp_path, capsys):
    layout, removed, listed = release
    recipe = make_recipe(training__max_epochs=1).to_dict()  # the tiny model of tests/conftest.py
    recipe["data"]["root"] = str(layout.root)
    config = tmp_path / "recipe.yaml"
    config.write_text(yaml.safe_dump(recipe))
    run = tmp_path / "run"
    capsys.readouterr()
    assert main(["train", "--config", str(config), "--out", str(run), "--no-progress"]) == 0
    prefix = "tbfl train: warning: "  # the CLI prints every warning in tbfl's style
    messages = [line.removeprefix(prefix) for line in capsys.readouterr().err.splitlines() if line.startswith(prefix)]
    assert any(m.startswith("weak_train: ") and " of " in m and "1 missing" in m for m in messages)
    assert any(m.startswith("weak_validation: ") and "1 missing" in m for m in messages)
    assert any(m.startswith(f"unlabeled_train: {N_UNLABELED - 1} of {N_UNLABELED} clips present") for m in messages)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_clips"] == N_VALIDATION + 1
    assert sorted(p.name for p in (run / "scores" / "validation").iterdir()) == sorted(c.replace(".wav", ".tsv") for c in listed["validation"])

    durations = tmp_path / "validation_durations.tsv"  # what the baseline writes from the audio folder
    durations.write_text("filename\tduration\n" + "".join(f"{clip}\t10.000\n" for clip in listed["validation"]))
    capsys.readouterr()
    out = tmp_path / "evaluation.json"
    assert main(["evaluate", "--scores", str(run / "scores" / "validation"), "--ground-truth", str(layout.path("validation_tsv")),
                 "--durations", str(durations), "--out", str(out), "--no-progress"]) == 0
    evaluated = json.loads(out.read_text())
    for key in ("psds1", "psds2", "event_f1", "intersection_f1", "n_clips", "n_events"):
        assert evaluated[key] == pytest.approx(metrics[key], abs=1e-6), key


@pytest.mark.slow  # trains a tiny model
def test_a_missing_validation_clip_is_left_out_of_the_final_scores(release, make_recipe, tmp_path, capsys):
    layout, _, listed = release
    root = tmp_path / "dataset"
    shutil.copytree(layout.root, root)
    gone = listed["validation"][0]
    (DesedLayout(root).original_audio_dir("validation_audio") / gone).unlink()
    recipe = make_recipe(training__max_epochs=1).to_dict()
    recipe["data"]["root"] = str(root)
    config = tmp_path / "recipe.yaml"
    config.write_text(yaml.safe_dump(recipe))
    capsys.readouterr()
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert re.search(rf"^tbfl train: warning: validation: {N_VALIDATION} of {N_VALIDATION + 1} clips present .*\({gone}\)",
                     capsys.readouterr().err, flags=re.M)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_clips"] == metrics["networks"]["student"]["n_clips"] == N_VALIDATION
    assert gone.replace(".wav", ".tsv") not in {p.name for p in (tmp_path / "run" / "scores" / "validation").iterdir()}
