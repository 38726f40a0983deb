"""Shared fixtures: a tiny generated DESED dataset and a recipe small enough to train on it in seconds."""

from pathlib import Path

import pytest

from tbfl.synth import generate_dataset
from tbfl.training.config import recipe_from_dict

#: A CPU-sized recipe: 64 mels at hop 512 (313 frames), time pooling 2 -> 156 output frames.
TINY_RECIPE = {
    "features": {"n_mels": 64, "hop_length": 512},
    "model": {"n_mels": 64, "filters": [4, 8, 8, 16, 16, 16], "pooling": [[1, 2], [2, 2], [1, 2], [1, 2], [1, 2], [1, 2]], "rnn_hidden": 8},
    "loss": {"name": "tbfl", "gamma": 2.0, "k": 1000},
    "training": {"max_epochs": 2, "batch_sizes": [4, 4, 4], "rampup_epochs": 1, "checkpoint_every_n_steps": 1, "log_every_n_steps": 1,
                 "epoch_mode": "max_size_cycle"},
}


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny") / "desed"
    generate_dataset(root, preset="tiny", seed=0, progress=False)
    return root


def _recipe_factory(tiny_root: Path, default_cache: Path):
    def make(cache_dir: Path | None = None, **overrides):
        """TINY_RECIPE with ``section__key=value`` overrides."""
        values = {section: dict(entries) for section, entries in TINY_RECIPE.items()}
        values["data"] = {"root": str(tiny_root), "cache_dir": str(cache_dir or default_cache)}
        for dotted, value in overrides.items():
            section, key = dotted.split("__")
            values[section][key] = value
        return recipe_from_dict(values)

    return make


@pytest.fixture
def make_recipe(tiny_root, tmp_path):
    """Recipe on the tiny dataset with ``section__key`` overrides; each test gets its own feature cache."""
    return _recipe_factory(tiny_root, tmp_path / "cache")


@pytest.fixture(scope="module")
def make_recipe_module(tiny_root, tmp_path_factory):
    """As ``make_recipe``, for module-scoped fixtures."""
    return _recipe_factory(tiny_root, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def tiny_config(tiny_root, tmp_path_factory) -> Path:
    """TINY_RECIPE as a YAML file on the tiny dataset, for the CLI."""
    import yaml

    folder = tmp_path_factory.mktemp("config")
    values = {section: dict(entries) for section, entries in TINY_RECIPE.items()}
    values["data"] = {"root": str(tiny_root), "cache_dir": str(folder / "cache")}
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(values))
    return path
