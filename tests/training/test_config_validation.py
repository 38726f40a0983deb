"""Recipe errors caught before Lightning starts: numeric ranges, and --set overrides named in errors."""

import re

import pytest

from tbfl.cli import main
from tbfl.training.config import load_recipe


@pytest.mark.parametrize(
    "override, message",
    [
        ("training.max_epochs=-1", "training.max_epochs must be >= 1, got -1"),
        ("training.max_epochs=0", "training.max_epochs must be >= 1, got 0"),
        ("loss.gamma=-1", "loss.gamma must be >= 0, got -1"),
        ("loss.k=0", "loss.k must be > 0 (or 'inf' or 'auto'), got 0.0"),
        ("loss.beta=1", "loss.beta must be in [0, 1), got 1"),
        ("training.learning_rate=0", "training.learning_rate must be > 0, got 0"),
        ("training.max_epochs=2.5", "training.max_epochs must be an integer >= 1, got 2.5"),
        ("training.ema_decay=abc", "training.ema_decay must be a number in [0, 1], got 'abc'"),
    ],
)
def test_bad_numbers_exit_2_before_training(tiny_config, tmp_path, capsys, override, message):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_config), "--out", str(out), "--set", override, "--no-progress"]) == 2
    err = capsys.readouterr().err
    key, _, value = override.partition("=")
    assert err.strip().splitlines() == [f"tbfl train: error: {tiny_config} with --set {key}={load_value(value)!r}: {message}"]
    assert not out.exists()  # nothing started


def load_value(text):
    import yaml

    return yaml.safe_load(text)


def test_unknown_override_names_the_override_not_the_file(tiny_config, capsys):
    assert main(["train", "--config", str(tiny_config), "--out", "unused", "--set", "data.layout.weak_tssv=x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tbfl train: error: --set data.layout.weak_tssv='x': unknown setting (known keys of data: [")
    assert str(tiny_config) not in err


def test_file_errors_still_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("training:\n  max_epochs: 0\n")
    with pytest.raises(ValueError, match=rf"^{path}: training.max_epochs must be >= 1, got 0$"):
        load_recipe(path)
    assert load_recipe(path, {"training.max_epochs": 3}).training.max_epochs == 3  # a valid override mends it


@pytest.mark.parametrize("text, message", [
    ("- data\n- loss\n", "a recipe is a mapping of sections .* not a list"),
    ("loss:\n  name: bce\n  gamma: 2\n  name: tbfl\n", r":4: not valid YAML \(duplicate key 'name' \(first given on line 2\)\)"),
])
def test_misshapen_recipes_are_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and str(path) in err and err.count("\n") == 1, err


def test_bad_competing_loss_setting_exits_2_before_training(tiny_config, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_config), "--out", str(out), "--set", "loss.name=asl", "--set", "loss.margin=1.5", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tbfl train: error: {tiny_config} with --set loss.name='asl' --set loss.margin=1.5: loss.margin must be in [0, 1), got 1.5"]
    assert not out.exists()
