"""The paper's Table 1 and reading class statistics (V_c, r_c) from a JSON/YAML file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tbfl.constants import DESED_CLASSES


@dataclass(frozen=True)
class ClassStatistics:
    """Per-class data volume V_c and frame ratio r_c, in class order."""

    classes: tuple[str, ...]
    volumes: tuple[float, ...]
    frame_ratios: tuple[float, ...]


#: Table 1 of Park & Elhilali (DESED 2021): V_c of the soundbank and r_c of the synthetic strong set.
PAPER_TABLE1 = ClassStatistics(
    classes=DESED_CLASSES,
    volumes=(190, 98, 88, 109, 136, 56, 64, 68, 128, 72),
    frame_ratios=(0.0368, 0.0526, 0.0322, 0.0388, 0.0334, 0.1165, 0.1551, 0.1002, 0.3130, 0.1212),
)
#: Table 1's average source length (s) and average event duration (s), same order.
PAPER_AVG_SOURCE_LENGTH_S = (1.58, 7.40, 1.22, 0.55, 1.01, 22.04, 21.09, 11.28, 1.26, 27.34)
PAPER_AVG_EVENT_DURATION_S = (1.45, 4.14, 1.35, 0.66, 1.13, 8.67, 9.38, 6.66, 1.54, 9.46)


def load_statistics(path: str | Path) -> tuple[list[str], list[float], list[float]]:
    """Read ``classes``, ``volumes`` and ``frame_ratios`` from a JSON or YAML file.

    Accepts the output of ``tbfl stats --json``. Errors name the file and the missing key.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: statistics file not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'volumes' and 'frame_ratios'")
    missing = [key for key in ("volumes", "frame_ratios") if key not in data]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}; found {sorted(data)}")
    volumes, ratios = list(data["volumes"]), list(data["frame_ratios"])
    classes = list(data.get("classes") or (DESED_CLASSES if len(volumes) == len(DESED_CLASSES) else []))
    if len(classes) != len(volumes) or len(ratios) != len(volumes):
        raise ValueError(f"{path}: {len(classes)} classes, {len(volumes)} volumes and {len(ratios)} frame ratios must have equal length")
    return classes, [float(v) for v in volumes], [float(r) for r in ratios]
