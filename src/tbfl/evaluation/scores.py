"""Frame scores in the sed_scores_eval TSV format: one ``<clip id>.tsv`` per clip.

Each file has the columns ``onset offset <class ...>`` and one row per frame;
frame ``i`` covers ``[i * hop, (i + 1) * hop)`` seconds. A clip id is the audio
file name without ``.wav``. Files are written atomically and read back
exactly (floats are written with full precision).
"""

from __future__ import annotations

import difflib
import warnings
import zipfile
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
from tqdm import tqdm

from tbfl.io import atomic_path, visible_files

#: Tolerance on frame times, as a fraction of the frame hop.
_TIME_TOLERANCE = 1e-3


def clip_id(filename: str) -> str:
    """Clip id of an audio file name: the name without a trailing ``.wav``."""
    return filename[: -len(".wav")] if filename.endswith(".wav") else filename


def scores_to_frame(scores: np.ndarray, classes: Iterable[str], frame_hop_s: float) -> pd.DataFrame:
    """sed_scores_eval score table (n_frames rows) from model output ``scores`` (C, n_frames)."""
    classes = list(classes)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != len(classes):
        raise ValueError(f"scores must have shape (C={len(classes)}, n_frames), got {scores.shape}")
    frame = np.arange(scores.shape[1])
    table = pd.DataFrame(scores.T, columns=classes)
    table.insert(0, "offset", (frame + 1) * frame_hop_s)
    table.insert(0, "onset", frame * frame_hop_s)
    return table


def _table_values(table: pd.DataFrame, columns: list[str], classes: tuple[str, ...], source: str) -> np.ndarray:
    """(n_frames, 2 + C) float64 onset, offset and class columns of a score table; errors name ``source`` and the line."""
    _check_class_columns(columns[2:], list(classes), source)
    if len(table) == 0:
        raise ValueError(f"{source}: no frames")
    names = ["onset", "offset", *classes]
    try:
        values = table[names].to_numpy(dtype=np.float64)
    except (ValueError, TypeError):  # text in a column
        values = np.full((len(table), len(names)), np.nan)
    if not np.isfinite(values).all():
        for name in names:
            _check_numeric(table[name], name, source)
    return values


def frame_to_scores(table: pd.DataFrame, classes: Iterable[str], *, source: str = "scores") -> tuple[np.ndarray, float]:
    """Validated (C, n_frames) scores in ``classes`` order and the frame hop (s) of a score table.

    Errors name ``source`` and the file line (the header is line 1).
    """
    columns = [str(c) for c in table.columns]
    if columns[:2] != ["onset", "offset"]:
        raise ValueError(f"{source}: the first two columns must be 'onset' and 'offset', found {columns[:2]}")
    values = _table_values(table, columns, tuple(classes), source)
    frame_hop_s = _frame_hop(values[:, 0], values[:, 1], source)
    return np.ascontiguousarray(values[:, 2:].T), frame_hop_s


def write_scores(
    directory: str | Path, scores: Mapping[str, np.ndarray], classes: Iterable[str], frame_hop_s: float,
    *, progress: bool = False,
) -> None:
    """Write ``scores[clip_id]`` (C, n_frames) to ``directory/<clip_id>.tsv``, each file atomically."""
    directory = Path(directory)
    classes = list(classes)
    for clip, clip_scores in tqdm(scores.items(), desc="writing scores", unit="clip", disable=not progress):
        table = scores_to_frame(clip_scores, classes, frame_hop_s)
        with atomic_path(directory / f"{clip}.tsv") as tmp:
            table.to_csv(tmp, sep="\t", index=False)


def _score_files(directory: str | Path) -> list[Path]:
    """The ``<clip id>.tsv`` files of a score folder, sorted; errors when there are none."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"score directory not found: {directory}")
    paths = visible_files(directory, (".tsv",))
    if not paths:
        raise ValueError(f"{directory}: no <clip id>.tsv score files")
    return paths


class UnreadableScoreFile(ValueError):
    """A file of a score folder that is not a text table at all (binary, undecodable or unparsable)."""


def _read_table(path: Path) -> pd.DataFrame:
    try:
        with open(path, "rb") as file:
            if b"\0" in file.read(4096):
                raise UnreadableScoreFile(f"{path}: a binary file, not a tab-separated score table")
        return pd.read_csv(path, sep="\t", float_precision="round_trip")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UnreadableScoreFile(f"{path}: not a tab-separated score table ({error})") from None


def _readable_tables(paths: list[Path], progress: bool) -> Iterator[tuple[Path, pd.DataFrame]]:
    """(path, table) of each score file that reads as a table; an unreadable one (e.g. a macOS ``._x.tsv``)
    is a warning naming it and is left out. ValueError when none is readable."""
    n_read = 0
    for path in tqdm(paths, desc="reading scores", unit="clip", disable=not progress):
        try:
            table = _read_table(path)
        except UnreadableScoreFile as error:
            warnings.warn(f"{error}; left out", UserWarning, stacklevel=3)
            continue
        n_read += 1
        yield path, table
    if not n_read:
        raise ValueError(f"{paths[0].parent}: none of the {len(paths)} .tsv files is a readable score table")


def read_scores(
    directory: str | Path, classes: Iterable[str], *, progress: bool = False,
) -> tuple[dict[str, np.ndarray], float]:
    """All ``<clip id>.tsv`` files of ``directory``: clip id -> (C, n_frames) scores, and the common frame hop (s)."""
    paths = _score_files(directory)
    classes = list(classes)
    scores: dict[str, np.ndarray] = {}
    first_hop: tuple[float, Path] | None = None
    for path, table in _readable_tables(paths, progress):
        scores[path.stem], frame_hop_s = frame_to_scores(table, classes, source=str(path))
        if first_hop is None:
            first_hop = (frame_hop_s, path)
        elif abs(frame_hop_s - first_hop[0]) > 1e-9:
            raise ValueError(
                f"{path}: frame hop {frame_hop_s:.6g} s differs from {first_hop[0]:.6g} s in {first_hop[1]}; "
                "all score files must share one frame hop"
            )
    return scores, first_hop[0]


def _check_class_columns(found: list[str], classes: list[str], source: str) -> None:
    missing = [c for c in classes if c not in found]
    unexpected = [c for c in found if c not in classes]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    if not (missing or unexpected or duplicated):
        return
    problems, suggested = [], set()
    lowered = {c.lower(): c for c in unexpected}
    for name in missing:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        if close:
            suggested.add(lowered[close[0]])
            problems.append(f"class column {name!r} is missing (is {lowered[close[0]]!r} meant to be {name!r}?)")
        else:
            problems.append(f"class column {name!r} is missing")
    problems += [f"unexpected column {name!r}" for name in unexpected if name not in suggested]
    problems += [f"duplicated column {name!r}" for name in duplicated]
    raise ValueError(f"{source}: " + "; ".join(problems) + f". Expected columns: onset, offset, {', '.join(classes)}")


def _check_numeric(column: pd.Series, name: str, source: str) -> None:
    """ValueError naming the first line of ``column`` that is not a finite number."""
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numbers)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = column.iloc[row]
        shown = repr(value) if isinstance(value, str) else str(float(value))
        raise ValueError(
            f"{source}, line {row + 2}: column {name!r} holds {shown}, not a finite number"
            + (f" ({bad.sum()} such rows)" if bad.sum() > 1 else "")
        )


def _frame_hop(onset_s: np.ndarray, offset_s: np.ndarray, source: str) -> float:
    """The frame hop of a regular grid starting at 0 s (ValueError naming the first bad line otherwise)."""
    frame_hop_s = float(offset_s[0] - onset_s[0])
    if frame_hop_s <= 0:
        raise ValueError(f"{source}, line 2: frame offset {offset_s[0]} is not after its onset {onset_s[0]}")
    tolerance = _TIME_TOLERANCE * frame_hop_s
    expected_onset = np.arange(len(onset_s)) * frame_hop_s
    for times, expected, name in ((onset_s, expected_onset, "onset"), (offset_s, expected_onset + frame_hop_s, "offset")):
        bad = np.flatnonzero(np.abs(times - expected) > tolerance)
        if len(bad):
            row = int(bad[0])
            raise ValueError(
                f"{source}, line {row + 2}: {name} {times[row]} breaks the regular frame grid "
                f"(hop {frame_hop_s:.6g} s from 0 s: expected {expected[row]:.6g}); frames must be contiguous and equally spaced"
            )
    return frame_hop_s


def frame_to_timed_scores(
    table: pd.DataFrame, classes: Iterable[str] | None = None, *, source: str = "scores",
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(C, n_frames) scores, (n_frames + 1,) frame boundaries (s) and the classes of any table sed_scores_eval reads.

    Frames must be contiguous (each onset equals the previous offset, as
    sed_scores_eval requires) and of positive length; the grid may start
    anywhere and be irregular. ``classes`` None takes them from the header.
    """
    columns = [str(c) for c in table.columns]
    if columns[:2] != ["onset", "offset"] or len(columns) < 3:
        raise ValueError(f"{source}: the columns must be 'onset', 'offset', then one per class, found {columns[:3]}")
    classes = tuple(columns[2:]) if classes is None else tuple(classes)
    values = _table_values(table, columns, classes, source)
    onset_s, offset_s = values[:, 0], values[:, 1]
    for bad, problem in (
        (np.flatnonzero(offset_s <= onset_s), "frame offset is not after its onset"),
        (np.flatnonzero(onset_s[1:] != offset_s[:-1]) + 1, "onset differs from the previous frame's offset"),
    ):
        if len(bad):
            row = int(bad[0])
            raise ValueError(f"{source}, line {row + 2}: {problem} (onset {onset_s[row]}, offset {offset_s[row]})")
    return np.ascontiguousarray(values[:, 2:].T), np.append(onset_s, offset_s[-1]), classes


def read_score_tables(
    directory: str | Path, classes: Iterable[str] | None = None, *, progress: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], tuple[str, ...]]:
    """Every ``<clip id>.tsv`` of ``directory`` as sed_scores_eval reads them.

    Returns clip id -> (C, n_frames) scores, clip id -> (n_frames + 1,) frame
    boundaries (s), and the classes (``classes``, or the first file's header).
    """
    paths = _score_files(directory)
    scores, times_s = {}, {}
    for path, table in _readable_tables(paths, progress):
        scores[path.stem], times_s[path.stem], classes = frame_to_timed_scores(table, classes, source=str(path))
    return scores, times_s, classes


def write_score_store(
    path: str | Path, scores: Mapping[str, np.ndarray], times_s: Mapping[str, np.ndarray], classes: Iterable[str],
) -> None:
    """One binary NPZ file holding every clip: the store for large sets (the TSV folder stays the interchange format).

    Arrays: ``clip_ids`` (n_clips,), ``classes`` (C,), ``frame_start`` (n_clips + 1,)
    offsets into ``values`` (total_frames, C) float32 or float64 as given, and ``times_s``
    (total_frames + n_clips,) frame boundaries, clip after clip. ``values`` is written clip by
    clip, so writing holds no second copy of the scores.
    """
    clip_ids, classes = list(scores), list(classes)
    values = [np.asarray(scores[clip]).T for clip in clip_ids]  # (n_frames, C) views
    boundaries = [np.asarray(times_s[clip], dtype=np.float64) for clip in clip_ids]
    for clip, v, t in zip(clip_ids, values, boundaries):
        if t.shape != (len(v) + 1,):
            raise ValueError(f"scores of {clip}: {len(v)} frames need {len(v) + 1} boundaries, got {t.shape}")
    frame_start = np.concatenate([[0], np.cumsum([len(v) for v in values])]).astype(np.int64)
    dtype = np.result_type(*values) if values else np.dtype(np.float64)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (int(frame_start[-1]), len(classes))}
    small = {
        "clip_ids": np.array(clip_ids, dtype=str), "classes": np.array(classes, dtype=str), "frame_start": frame_start,
        "times_s": np.concatenate(boundaries) if boundaries else np.zeros(0),
    }
    with atomic_path(Path(path)) as tmp, zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:  # np.savez's layout
        for name, array in small.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
        with archive.open("values.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_2_0(member, header)
            for v in values:
                member.write(np.ascontiguousarray(v, dtype=dtype).tobytes())


def read_score_store(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], tuple[str, ...]]:
    """What :func:`write_score_store` wrote: clip id -> (C, n_frames) scores, clip id -> boundaries, classes.

    The scores are read-only views into the file, memory-mapped (the store is an uncompressed zip, so
    ``values`` lies in it as one contiguous array): nothing is read until a clip's scores are used, and
    the pages read can be dropped again by the system, so a store larger than memory can be evaluated a
    block of classes at a time. A compressed store (another writer's) is read clip by clip into memory.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            small = {}
            for name in ("clip_ids", "classes", "frame_start", "times_s"):
                with archive.open(f"{name}.npy") as member:
                    small[name] = np.lib.format.read_array(member, allow_pickle=False)
            clip_ids, classes, frame_start = small["clip_ids"].tolist(), tuple(small["classes"].tolist()), small["frame_start"]
            info = archive.getinfo("values.npy")
            with archive.open(info) as member:
                read_header = np.lib.format.read_array_header_1_0 if np.lib.format.read_magic(member) == (1, 0) else np.lib.format.read_array_header_2_0
                shape, fortran_order, dtype = read_header(member)
                if fortran_order or len(shape) != 2 or shape[1] != len(classes) or shape[0] != frame_start[-1]:
                    raise ValueError(f"values of shape {shape} do not match {len(classes)} classes and {frame_start[-1]} frames")
                header_bytes = member.tell()
                values = None if info.compress_type != zipfile.ZIP_STORED else np.memmap(
                    path, dtype=dtype, mode="r", shape=tuple(shape), offset=_member_data_offset(path, info) + header_bytes)
                scores, times = {}, {}
                for i, clip in enumerate(clip_ids):
                    n_frames = int(frame_start[i + 1] - frame_start[i])
                    if values is None:
                        block = np.frombuffer(member.read(n_frames * len(classes) * dtype.itemsize), dtype=dtype)
                        scores[clip] = np.ascontiguousarray(block.reshape(n_frames, len(classes)).T)
                    else:
                        scores[clip] = values[frame_start[i] : frame_start[i + 1]].T
                    times[clip] = small["times_s"][frame_start[i] + i : frame_start[i + 1] + i + 1]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: not a tbfl score store ({error})") from None
    return scores, times, classes


def _member_data_offset(path: str | Path, info: zipfile.ZipInfo) -> int:
    """Byte offset of a stored (uncompressed) zip member's data: after its local header, name and extra field."""
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
    if local[:4] != b"PK\x03\x04":
        raise ValueError("bad local zip header of values.npy")
    name_length, extra_length = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
    return info.header_offset + 30 + name_length + extra_length


def median_frame_hop_s(times_s: Mapping[str, np.ndarray]) -> float:
    """The median frame length (s, rounded to 1 ns) over clip id -> (n_frames + 1,) frame boundaries: sizes median filters."""
    return round(float(np.median(np.concatenate([np.diff(t) for t in times_s.values()]))), 9)


def read_any_scores(
    path: str | Path, classes: Iterable[str] | None = None, *, progress: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], tuple[str, ...]]:
    """:func:`read_score_store` for a file, :func:`read_score_tables` for a folder; rows in ``classes`` order if given."""
    if not Path(path).is_file():
        return read_score_tables(path, classes, progress=progress)
    scores, times_s, stored = read_score_store(path)
    if classes is None:
        return scores, times_s, stored
    classes = tuple(classes)
    _check_class_columns(list(stored), list(classes), str(path))
    order = [stored.index(name) for name in classes]
    if order == list(range(len(stored))):
        return scores, times_s, classes  # the stored views, not copied
    return {clip: values[order] for clip, values in scores.items()}, times_s, classes
