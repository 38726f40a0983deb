"""File I/O at the edges: every file tbfl writes appears whole or not at all; folder listings skip hidden files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml


class WriteError(OSError):
    """An OS error (disk full, no permission, ...) while writing one output file; the message names the file."""

    def __str__(self) -> str:
        return str(self.strerror)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary name keeps the extension, so soundfile and numpy infer the format.

    The parent folder is created. If the block raises, the temporary file is
    removed and ``path`` is left untouched; an OSError becomes a WriteError
    naming ``path`` and the OS error.
    """
    path = Path(path)
    tmp_path = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
        os.close(fd)
        tmp_path = Path(tmp_name)
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, path)
    except WriteError:
        raise
    except OSError as error:
        raise WriteError(error.errno, f"{path}: cannot write ({error.strerror or error})") from None
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable_folder(folder: str | Path) -> None:
    """Create ``folder`` (and its parents) if needed and check that a file can be written in it, before long
    work whose results would go there; a WriteError naming the folder otherwise."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise WriteError(error.errno, f"{folder}: cannot write in this folder ({error.strerror})") from None


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml's safe loader, except that a key given twice in one mapping is an error (not the last value silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {seen[key]})", key_node.start_mark
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path, what: str = "YAML file") -> Any:
    """Parse a YAML file; a missing file is FileNotFoundError and bad YAML (a key given twice included) a
    ValueError, both naming the file (and the line: ``path:LINE: not valid YAML (problem)``). An empty file is ``{}``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{path}{line}: not valid YAML ({getattr(error, 'problem', None) or error})") from None


def is_hidden(name: str) -> bool:
    """The one rule for hidden entries: a name starting with ``.`` (``.DS_Store``, macOS ``._x.wav`` forks)."""
    return name.startswith(".")


def visible_files(folder: str | Path, suffixes: Iterable[str], *, recursive: bool = False) -> list[Path]:
    """The files in ``folder`` whose lower-cased suffix is one of ``suffixes``, sorted.

    Hidden files (:func:`is_hidden`) are skipped, and with ``recursive`` so is everything under a hidden folder.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: folder not found")
    suffixes = tuple(suffixes)
    found: list[Path] = []
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if recursive and not is_hidden(name)]
        found += [Path(root, name) for name in names if not is_hidden(name) and os.path.splitext(name)[1].lower() in suffixes]
    return sorted(found)
