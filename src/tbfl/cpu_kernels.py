"""tbfl's C++ CPU kernels (``csrc/``): the CRNN's GLU and the per-frame loops of its GRU.

Compiled on first use by ``torch.utils.cpp_extension`` (1-2 minutes; ``make install``
does it) into ``<venv>/tbfl-kernels/<checkout>/``: one build per environment and source
folder, so two checkouts never rebuild over each other (PyTorch's default,
``~/.cache/torch_extensions``, where the environment is read-only). Where they cannot
be built (no C++ compiler), the CRNN runs PyTorch operations instead and says so once:
the same numbers, more slowly.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import shutil
import sys
import warnings
from pathlib import Path
from types import ModuleType


def _build_directory(sources: Path) -> str | None:
    """``<venv>/tbfl-kernels/<hash of the source folder>`` where the environment is writable, else None (PyTorch's cache)."""
    if not os.access(sys.prefix, os.W_OK):
        return None
    folder = Path(sys.prefix) / "tbfl-kernels" / hashlib.sha1(str(sources.resolve()).encode()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


@functools.cache
def kernels() -> ModuleType | None:
    """The compiled extension (built and cached on first call), or None where it cannot be built."""
    from torch.utils import cpp_extension

    if shutil.which("ninja") is None:  # PyTorch builds with ninja; the `ninja` wheel ships one
        import ninja

        os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")
    sources = importlib.resources.files("tbfl") / "csrc"
    try:
        with importlib.resources.as_file(sources) as folder:
            return cpp_extension.load(
                name="tbfl_cpu_kernels",
                sources=[str(folder / "kernels.cpp")],
                extra_include_paths=[str(folder)],
                extra_cflags=["-O3", "-march=native"],
                build_directory=_build_directory(folder),
                verbose=False,
            )
    except Exception as error:  # noqa: BLE001 - any build failure means: run the PyTorch operations
        warnings.warn(f"tbfl: the C++ CPU kernels could not be built ({error}); the CRNN runs PyTorch operations (slower)", stacklevel=2)
        return None


def build() -> None:
    """Compile the kernels now (``make install``), so that the first training step does not."""
    print("tbfl: C++ CPU kernels " + ("ready" if kernels() is not None else "unavailable (see the warning)"), file=sys.stderr)
