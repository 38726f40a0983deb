"""The shipped recipes are reachable by name and by path (``tbfl.recipes``)."""

from pathlib import Path

import pytest

from tbfl.cli import main
from tbfl.experiments.sweep import load_grid
from tbfl.recipes import RECIPE_DIR, recipe_names, resolve_recipe
from tbfl.training.config import load_recipe

REPO = Path(__file__).resolve().parents[2]


def test_every_config_of_the_checkout_is_shipped():
    configs = REPO / "configs"
    assert recipe_names() == sorted(path.relative_to(configs).with_suffix("").as_posix() for path in configs.rglob("*.yaml"))
    assert {"cpu-small", "desed2021", "grid-paper", "grid-study-cpu"} <= set(recipe_names())
    for name in recipe_names():
        assert (RECIPE_DIR / f"{name}.yaml").read_bytes() == (REPO / "configs" / f"{name}.yaml").read_bytes()


@pytest.mark.parametrize("typed", ["cpu-small", "cpu-small.yaml", "configs/cpu-small.yaml"])
def test_name_and_path_give_the_same_recipe_from_any_folder(typed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here: the shipped file is found
    assert resolve_recipe(typed) == RECIPE_DIR / "cpu-small.yaml"
    assert load_recipe(typed).to_dict() == load_recipe(REPO / "configs" / "cpu-small.yaml").to_dict()


def test_an_existing_path_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cpu-small.yaml").write_text("loss: {name: focal}\n")
    assert resolve_recipe("cpu-small.yaml") == Path("cpu-small.yaml")
    assert load_recipe("cpu-small.yaml").loss.name == "focal"
    assert load_recipe("cpu-small").loss.name == "bce"  # a bare name is a file only with its suffix


def test_grids_by_name():
    assert [run.name for run in load_grid("grid-paper")] == [run.name for run in load_grid(REPO / "configs" / "grid-paper.yaml")]


def test_recipes_in_sub_folders_by_name(tmp_path, monkeypatch):
    nested = [name for name in recipe_names() if "/" in name]
    if not nested:
        pytest.skip("no recipe in a sub-folder of configs/")
    monkeypatch.chdir(tmp_path)
    name = nested[0]
    expected = RECIPE_DIR / f"{name}.yaml"
    assert resolve_recipe(name) == resolve_recipe(f"configs/{name}.yaml") == expected


def test_an_unknown_name_is_one_line_naming_it_and_the_shipped_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="cpu-smal: config file not found .*cpu-small, desed2021"):
        resolve_recipe("cpu-smal")
    with pytest.raises(FileNotFoundError, match="elsewhere/cpu-small.yaml: config file not found"):
        resolve_recipe("elsewhere/cpu-small.yaml")  # only a configs/ folder stands for the shipped one
    assert main(["train", "--config", "cpu-smal", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tbfl train: error: cpu-smal: config file not found (neither a file nor a shipped recipe:")
    assert not (tmp_path / "run").exists()
