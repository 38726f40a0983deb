"""The shipped recipes (``configs/*.yaml``, package data ``tbfl/configs``), reachable by name or by path.

``--config cpu-small`` and ``--config configs/cpu-small.yaml`` name the same file; so do
``--grid grid-paper`` and ``--grid configs/grid-paper.yaml``. A path that exists always wins, so a
user's own ``cpu-small.yaml`` in the working folder is read, not the shipped one.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: Folder of the shipped recipes inside the installed package (in a checkout: a link to ``configs/``).
RECIPE_DIR = Path(str(files("tbfl") / "configs"))


def recipe_names() -> list[str]:
    """Names of the shipped recipes: paths below ``configs/`` without ``.yaml`` (``cpu-small``, ``study2/h1``), sorted."""
    return sorted(path.relative_to(RECIPE_DIR).with_suffix("").as_posix() for path in RECIPE_DIR.rglob("*.yaml"))


def resolve_recipe(name_or_path: str | Path, what: str = "config file") -> Path:
    """The YAML file that ``name_or_path`` names: an existing path as given, else a shipped recipe.

    ``"cpu-small"``, ``"cpu-small.yaml"`` and ``"configs/cpu-small.yaml"`` (from any working folder) give the
    shipped ``cpu-small.yaml``; ``"study2/h1"`` a recipe of a sub-folder. Neither: FileNotFoundError naming what
    was typed and the shipped names.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    parts = path.parts[1:] if path.parts[:1] == ("configs",) else path.parts
    if parts and not path.is_absolute():
        shipped = RECIPE_DIR.joinpath(*parts)
        shipped = shipped if shipped.suffix == ".yaml" else shipped.with_name(shipped.name + ".yaml")
        if shipped.is_file():
            return shipped
    raise FileNotFoundError(f"{name_or_path}: {what} not found (neither a file nor a shipped recipe: {', '.join(recipe_names())})")
