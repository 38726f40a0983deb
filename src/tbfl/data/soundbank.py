"""The soundbank folder rule, one owner: ``<foreground>/<Class>[_nOn][_nOff]/`` holds sources of ``<Class>``.

Scaper (and DESED) mark sources cut at their start or end with the folder suffixes ``_nOn`` (no onset)
and ``_nOff`` (no offset), alone or together (``Blender_nOn_nOff``); they belong to the class.
Any class name is accepted here; which classes a caller knows is the caller's business.
"""

from __future__ import annotations

import re
from pathlib import Path

from tbfl.io import is_hidden

#: Scaper's variant suffixes, in any combination at the end of a folder name.
_VARIANT_SUFFIX = re.compile(r"(_nOn|_nOff)+$")


def class_of_folder(folder_name: str) -> str:
    """The class a soundbank folder holds: ``Dog_nOn`` -> ``Dog``, ``Blender_nOn_nOff`` -> ``Blender``."""
    return _VARIANT_SUFFIX.sub("", folder_name)


def class_folders(foreground_dir: str | Path) -> list[tuple[str, Path]]:
    """(class, folder) for every visible sub-folder of ``foreground_dir``, sorted by folder name.

    Several folders may give one class (``Dog`` and ``Dog_nOn``). FileNotFoundError when the folder is missing.
    """
    foreground_dir = Path(foreground_dir)
    if not foreground_dir.is_dir():
        raise FileNotFoundError(f"{foreground_dir}: soundbank foreground folder not found")
    folders = sorted(p for p in foreground_dir.iterdir() if p.is_dir() and not is_hidden(p.name))
    return [(class_of_folder(folder.name), folder) for folder in folders]
