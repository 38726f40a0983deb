"""A wheel user has the recipes: build the wheel, install it into a fresh virtualenv, train one tiny epoch
from it with ``--config cpu-small`` (the shipped recipe, by name)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_and_trains_with_a_shipped_recipe(tiny_root, tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves no build/ or egg-info in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "configs"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
                   check=True, cwd=tmp_path, capture_output=True)
    (wheel,) = wheels.glob("tbfl-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"tbfl/configs/{path.relative_to(REPO / 'configs').as_posix()}" for path in (REPO / "configs").rglob("*.yaml")} <= names
    assert {"tbfl/csrc/kernels.cpp", "tbfl/recipes.py"} <= names

    # A fresh venv that sees this environment's packages (torch, lightning, ...) after its own, not its tbfl.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                    check=True, capture_output=True, text=True).stdout.strip())
    (venv_site / "outer-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)

    # CXX=false: the C++ kernels cannot be built, so training takes the PyTorch path (as documented) instead
    # of compiling for 1-2 minutes; the kernels' own tests cover them.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"CXX": "false", "OMP_NUM_THREADS": "1"}
    where = subprocess.run([python, "-c", "import tbfl; print(tbfl.__file__)"], check=True, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv_site)

    run = tmp_path / "run"
    result = subprocess.run(
        [venv / "bin" / "tbfl", "train", "--config", "cpu-small", "--out", str(run),
         "--set", f"data.root={tiny_root}", "--set", f"data.cache_dir={tmp_path / 'cache'}", "--set", "training.max_epochs=1",
         "--set", "training.batch_sizes=[4, 4, 4]", "--set", "loss.name=tbfl", "--no-progress"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["training"]["epochs_trained"] == 1
    assert 0.0 <= metrics["psds1"] <= 1.0
    assert (run / "class_weights.json").is_file()
