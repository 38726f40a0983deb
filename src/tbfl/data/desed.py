"""DESED label files (TSV): readers that validate every line, writers that write atomically.

Formats (tab-separated, UTF-8, one header line):

- strong: ``filename onset offset event_label``; a clip with no event is one row
  with empty onset, offset and event_label;
- weak: ``filename event_labels`` (comma-separated labels, possibly none);
- unlabeled: ``filename``;
- durations: ``filename duration``.

Every problem in a file is a :class:`TsvFormatError` whose message is
``"{path}:{line_no}: {problem}"`` (1-based lines, the header is line 1); when
several lines share the problem, the message says how many and lists the first
ones. Blank lines are ignored (their numbers still count).

Choices made for the real DESED files:

- Same-class events of a clip that overlap or touch are merged (with a warning
  naming the file and the clips): psds_eval rejects them.
- An event may end at most ``duration_tolerance_s`` (default 1 ms, the
  resolution of the 3-decimal times these files use) past its clip's duration.
  The real DESED validation.tsv has 4 events ending 3 to 115 ms after 10 s;
  pass a larger tolerance to accept them against 10 s durations.
- A label repeated within one weak row (3 rows of the real weak.tsv) is kept
  once, with a warning.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from tbfl.constants import DESED_CLASSES
from tbfl.io import atomic_write_text

STRONG_COLUMNS = ("filename", "onset", "offset", "event_label")
WEAK_COLUMNS = ("filename", "event_labels")
UNLABELED_COLUMNS = ("filename",)
DURATIONS_COLUMNS = ("filename", "duration")
_FORMATS = {"strong": STRONG_COLUMNS, "weak": WEAK_COLUMNS, "unlabeled": UNLABELED_COLUMNS, "durations": DURATIONS_COLUMNS}

#: How far (s) an event may end past its clip's duration: the 3-decimal rounding of the files.
DURATION_TOLERANCE_S = 0.001
#: Line numbers listed in an error about several lines.
_MAX_LISTED_LINES = 5


class TsvFormatError(ValueError):
    """A problem in a TSV file; the message is ``"{path}:{line_no}: {problem}"``."""

    def __init__(self, path: str | Path, line_no: int, problem: str) -> None:
        super().__init__(f"{path}:{line_no}: {problem}")
        self.path, self.line_no, self.problem = Path(path), line_no, problem


@dataclass(frozen=True, eq=False)
class StrongLabels:
    """Strong labels of a set of clips.

    Attributes:
        events: one row per event, columns ``filename`` (str), ``onset`` and
            ``offset`` (float64, seconds), ``event_label`` (str), sorted by
            filename then onset. Built from any frame with these columns.
        filenames: every clip of the set, including clips without events, in
            first-seen order (default: the clips of ``events``).
    """

    events: pd.DataFrame
    filenames: tuple[str, ...] | None = None
    _rows: dict[str, tuple[int, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        missing = [c for c in STRONG_COLUMNS if c not in self.events.columns]
        if missing:
            raise ValueError(f"events lack column(s) {missing}; expected {list(STRONG_COLUMNS)}")
        events = self.events.loc[:, list(STRONG_COLUMNS)].astype(
            {"filename": object, "onset": np.float64, "offset": np.float64, "event_label": object}
        )
        filenames = tuple(pd.unique(events["filename"])) if self.filenames is None else tuple(self.filenames)
        if len(set(filenames)) != len(filenames):
            raise ValueError("filenames must be unique")
        unnamed = sorted(set(events["filename"]) - set(filenames))
        if unnamed:
            raise ValueError(f"events of clips missing from filenames: {unnamed[:5]}")
        events = events.sort_values(["filename", "onset", "event_label", "offset"], kind="stable").reset_index(drop=True)
        names = events["filename"].to_numpy()
        starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]]) if len(names) else np.zeros(0, dtype=np.int64)
        stops = np.r_[starts[1:], len(names)]
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "filenames", filenames)
        rows = dict.fromkeys(filenames, (0, 0))  # clips without events: an empty slice
        rows.update(zip(names[starts], zip(starts.tolist(), stops.tolist())))
        object.__setattr__(self, "_rows", rows)

    def for_clip(self, filename: str) -> pd.DataFrame:
        """Events of one clip (an empty frame for a clip without events); KeyError for an unknown clip."""
        if filename not in self._rows:
            raise KeyError(f"clip {filename!r} is not in these labels")
        start, stop = self._rows[filename]
        return self.events.iloc[start:stop]


# --------------------------------------------------------------------------- readers


def read_strong_tsv(
    path: str | Path,
    classes: Sequence[str] = DESED_CLASSES,
    *,
    durations: Mapping[str, float] | None = None,
    duration_tolerance_s: float = DURATION_TOLERANCE_S,
) -> StrongLabels:
    """Read and validate a strong-label TSV.

    Args:
        path: the TSV file.
        classes: the known event labels.
        durations: clip durations (s); when given, every clip must have one and
            every event must end by ``duration + duration_tolerance_s``.
    Returns:
        :class:`StrongLabels`, same-class overlapping or touching events merged (with a warning).
    """
    path = Path(path)
    table = _read_table(path, STRONG_COLUMNS)
    empty_fields = table[list(STRONG_COLUMNS[1:])] == ""
    no_event = empty_fields.all(axis=1)
    rows = table.loc[~no_event]
    onset = pd.to_numeric(rows["onset"], errors="coerce")
    offset = pd.to_numeric(rows["offset"], errors="coerce")
    events = rows.assign(onset=onset, offset=offset)
    first_event_line = events.groupby("filename")["line"].min()
    _raise_first(
        _empty_filenames(path, table),
        _problem(path, table, empty_fields.any(axis=1) & ~no_event, _incomplete_event),
        _duplicates(path, table.loc[no_event], ["filename"], "duplicate no-event row"),
        _problem(path, rows, ~np.isfinite(onset), lambda row: f"onset {row['onset']!r} is not a finite number"),
        _problem(path, rows, ~np.isfinite(offset), lambda row: f"offset {row['offset']!r} is not a finite number"),
        _problem(path, rows, onset < 0, lambda row: f"onset {row['onset']} is negative"),
        _problem(path, rows, offset <= onset, lambda row: f"offset {row['offset']} is not after onset {row['onset']}"),
        _unknown_labels(path, rows, rows["event_label"], classes, "event_label"),
        _duplicates(path, events, list(STRONG_COLUMNS), "duplicate event"),
        _problem(
            path,
            table.loc[no_event],
            table.loc[no_event, "filename"].isin(first_event_line.index),
            lambda row: f"clip {row['filename']!r} has this no-event row but also events (line {first_event_line[row['filename']]})",
        ),
        *(() if durations is None else _duration_problems(path, table, events, durations, duration_tolerance_s)),
    )
    events = _merge_overlaps(path, events)
    return StrongLabels(events.loc[:, list(STRONG_COLUMNS)], filenames=tuple(pd.unique(table["filename"])))


def read_weak_tsv(path: str | Path, classes: Sequence[str] = DESED_CLASSES) -> pd.DataFrame:
    """Read and validate a weak-label TSV.

    Returns:
        frame with columns ``filename`` (str) and ``event_labels`` (tuple of
        str in the order of ``classes``, empty for a clip without events), in file order.
    """
    path = Path(path)
    table = _read_table(path, WEAK_COLUMNS)
    tagged = table.loc[table["event_labels"] != ""]
    labels = tagged["event_labels"].str.split(",").explode()
    rows = tagged.loc[labels.index]
    _raise_first(
        _empty_filenames(path, table),
        _duplicates(path, table, ["filename"], "duplicate clip"),
        _problem(path, rows, (labels == "").to_numpy(), lambda row: f"empty label in event_labels {row['event_labels']!r}"),
        _unknown_labels(path, rows, labels, classes, "label"),
    )

    counts = np.zeros((len(table), len(classes)), dtype=np.int64)
    row_positions = table.index.get_indexer(labels.index)
    np.add.at(counts, (row_positions, pd.Categorical(labels, categories=list(classes)).codes), 1)
    repeated = (counts > 1).any(axis=1)
    if repeated.any():
        lines = table["line"].to_numpy()[repeated]
        warnings.warn(f"{path}: label repeated within a row on line(s) {_list_lines(lines)}; kept once", UserWarning, stacklevel=2)
    event_labels = [tuple(classes[c] for c in np.flatnonzero(row)) for row in counts]
    return pd.DataFrame({"filename": table["filename"].to_numpy(), "event_labels": pd.Series(event_labels, dtype=object)})


def read_unlabeled_tsv(path: str | Path) -> list[str]:
    """Read an unlabeled-set TSV: the clip names, in file order (unique)."""
    path = Path(path)
    table = _read_table(path, UNLABELED_COLUMNS)
    _raise_first(_empty_filenames(path, table), _duplicates(path, table, ["filename"], "duplicate clip"))
    return table["filename"].tolist()


def read_durations_tsv(path: str | Path) -> dict[str, float]:
    """Read a durations TSV: clip name -> duration (s, finite and > 0), in file order; identical repeated rows count once."""
    path = Path(path)
    table = _read_table(path, DURATIONS_COLUMNS)
    table = table[~table.duplicated(["filename", "duration"], keep="first")]  # identical repeats (psds_eval's fixtures)
    duration = pd.to_numeric(table["duration"], errors="coerce")
    _raise_first(
        _empty_filenames(path, table),
        _duplicates(path, table, ["filename"], "duplicate clip"),
        _problem(path, table, ~np.isfinite(duration), lambda row: f"duration {row['duration']!r} is not a finite number"),
        _problem(path, table, duration <= 0, lambda row: f"duration {row['duration']} is not positive"),
    )
    return dict(zip(table["filename"], duration.astype(float)))


# --------------------------------------------------------------------------- writers


def write_strong_tsv(path: str | Path, labels: StrongLabels) -> None:
    """Write strong labels atomically: clips in ``labels.filenames`` order, events by onset, times as ``%.3f``.

    A clip without events is written as one row with empty onset, offset and label.
    Raises ValueError for an event shorter than the 1 ms resolution of the format.
    """
    events = labels.events
    onset, offset = np.round(events["onset"].to_numpy(), 3), np.round(events["offset"].to_numpy(), 3)
    too_short = offset <= onset
    if too_short.any():
        bad = events.loc[too_short].iloc[0]
        raise ValueError(f"clip {bad.filename!r}: event {bad.event_label} {bad.onset}-{bad.offset} s is shorter than the format's 1 ms")
    _check_text_fields(list(labels.filenames) + events["event_label"].tolist(), ("\t", "\n", "\r"))
    position = {name: i for i, name in enumerate(labels.filenames)}
    event_lines = pd.DataFrame(
        {
            "clip": events["filename"].map(position).to_numpy(),
            "text": (events["filename"] + "\t" + np.char.mod("%.3f", onset) + "\t" + np.char.mod("%.3f", offset) + "\t" + events["event_label"]).to_numpy(),
        }
    )
    with_events = set(events["filename"])
    silent = [name for name in labels.filenames if name not in with_events]
    empty_lines = pd.DataFrame({"clip": [position[name] for name in silent], "text": [f"{name}\t\t\t" for name in silent]})
    lines = pd.concat([event_lines, empty_lines], ignore_index=True).sort_values("clip", kind="stable")["text"]
    _write_lines(path, STRONG_COLUMNS, lines.tolist())


def write_weak_tsv(path: str | Path, weak: pd.DataFrame) -> None:
    """Write weak labels atomically, in row order; ``event_labels`` holds tuples of labels (or comma-joined text)."""
    missing = [c for c in WEAK_COLUMNS if c not in weak.columns]
    if missing:
        raise ValueError(f"weak labels lack column(s) {missing}; expected {list(WEAK_COLUMNS)}")
    filenames = weak["filename"].tolist()
    _check_unique_names(filenames)
    joined = [tags if isinstance(tags, str) else ",".join(tags) for tags in weak["event_labels"]]
    _check_text_fields(filenames, ("\t", "\n", "\r"))
    _check_text_fields(joined, ("\t", "\n", "\r"))
    for name, tags in zip(filenames, joined):
        if tags and "" in tags.split(","):
            raise ValueError(f"clip {name!r}: empty label in {tags!r}")
    _write_lines(path, WEAK_COLUMNS, [f"{name}\t{tags}" for name, tags in zip(filenames, joined)])


def write_unlabeled_tsv(path: str | Path, filenames: Iterable[str]) -> None:
    """Write clip names atomically, in the given order."""
    filenames = list(filenames)
    _check_unique_names(filenames)
    _check_text_fields(filenames, ("\t", "\n", "\r"))
    _write_lines(path, UNLABELED_COLUMNS, filenames)


def write_durations_tsv(path: str | Path, durations: Mapping[str, float]) -> None:
    """Write clip durations (s, ``%.3f``) atomically, in mapping order."""
    names = list(durations)
    _check_unique_names(names)
    _check_text_fields(names, ("\t", "\n", "\r"))
    for name, duration in durations.items():
        if not np.isfinite(duration) or round(duration, 3) <= 0:
            raise ValueError(f"clip {name!r}: duration {duration} is not a positive number of milliseconds")
    _write_lines(path, DURATIONS_COLUMNS, [f"{name}\t{duration:.3f}" for name, duration in durations.items()])


# --------------------------------------------------------------------------- parsing


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """The rows of a TSV as text, one column per field plus ``line`` (1-based line number)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TsvFormatError(path, raw[: error.start].count(b"\n") + 1, f"not UTF-8 text ({error.reason})") from None
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    if not text.strip():
        raise TsvFormatError(path, 1, f"empty file; expected the header {_tabbed(columns)}")
    _check_header(path, lines[0], columns)

    body = lines[1:]
    kept = [i for i, line in enumerate(body) if line.strip(" ")]
    fields = [body[i].split("\t") for i in kept]
    line_nos = np.asarray(kept, dtype=np.int64) + 2
    n_fields = np.fromiter(map(len, fields), dtype=np.int64, count=len(fields))
    wrong = np.flatnonzero(n_fields != len(columns))
    if wrong.size:
        first = wrong[0]
        problem = f"expected {len(columns)} tab-separated field(s) {_tabbed(columns)}, found {n_fields[first]}"
        if n_fields[first] == 1:
            problem += _delimiter_hint(fields[first][0], len(columns))
        raise TsvFormatError(path, int(line_nos[first]), problem + _more_lines(line_nos[wrong]))
    table = pd.DataFrame(fields, columns=list(columns), dtype=object)
    if table.empty:
        table = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    table["line"] = line_nos
    return table


def _check_header(path: Path, header_line: str, columns: tuple[str, ...]) -> None:
    header = header_line.split("\t")
    if tuple(header) == columns:
        return
    found = f"found {_tabbed(header)}"
    if len(header) == 1 and len(columns) > 1:
        hint = _delimiter_hint(header[0], len(columns))
        if hint:
            raise TsvFormatError(path, 1, f"expected the tab-separated header {_tabbed(columns)}, {found}{hint}")
    missing = [c for c in columns if c not in header]
    extra = [c for c in header if c not in columns]
    if missing or extra:
        parts = ([f"missing column(s) {missing}"] if missing else []) + ([f"unexpected column(s) {extra}"] if extra else [])
        problem = f"{' and '.join(parts)} in the header: expected {_tabbed(columns)}, {found}"
        kind = next((name for name, cols in _FORMATS.items() if tuple(header) == cols), None)
        if kind:
            problem += f" (this is a {kind}-label file)" if kind in ("strong", "weak") else f" (this is a {kind} file)"
        elif header and Path(header[0]).suffix.lower() in (".wav", ".flac", ".ogg", ".mp3"):
            problem += " (the first line must be the header)"
        raise TsvFormatError(path, 1, problem)
    raise TsvFormatError(path, 1, f"header columns in the wrong order or repeated: expected {_tabbed(columns)}, {found}")


def _delimiter_hint(field: str, n_columns: int) -> str:
    """'; expected tab-separated, ...' when a single field splits into ``n_columns`` on another delimiter."""
    for name, parts in (("comma", field.split(",")), ("semicolon", field.split(";")), ("space", field.split())):
        if len(parts) == n_columns:
            return f"; expected tab-separated, this line looks {name}-separated"
    return ""


def _problem(path: Path, rows: pd.DataFrame, bad: pd.Series | np.ndarray, problem: Callable[[object], str]) -> TsvFormatError | None:
    """The error for the first of ``rows`` flagged ``bad`` (``problem(row)`` describes it), or None."""
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return None
    flagged = rows.loc[bad].sort_values("line", kind="stable")
    first = flagged.iloc[0]
    return TsvFormatError(path, int(first["line"]), problem(first) + _more_lines(flagged["line"].to_numpy()))


def _raise_first(*problems: TsvFormatError | None) -> None:
    """Raise the problem found on the earliest line (the first listed on a tie)."""
    found = [problem for problem in problems if problem is not None]
    if found:
        raise min(found, key=lambda problem: problem.line_no)


def _empty_filenames(path: Path, table: pd.DataFrame) -> TsvFormatError | None:
    return _problem(path, table, table["filename"] == "", lambda row: "empty filename")


def _duplicates(path: Path, rows: pd.DataFrame, key: list[str], what: str) -> TsvFormatError | None:
    duplicate = rows.duplicated(key, keep="first")
    if not duplicate.any():
        return None
    first_line = rows.groupby(key, sort=False)["line"].transform("min")
    return _problem(path, rows.assign(first_line=first_line), duplicate, lambda row: f"{what} (first on line {row['first_line']})")


def _unknown_labels(path: Path, rows: pd.DataFrame, labels: pd.Series, classes: Sequence[str], what: str) -> TsvFormatError | None:
    unknown = ~labels.isin(list(classes)).to_numpy()
    rows = rows.assign(label_=labels.to_numpy())
    return _problem(path, rows, unknown, lambda row: f"unknown {what} {row['label_']!r}{_suggestion(row['label_'], classes)}")


def _suggestion(label: str, classes: Sequence[str]) -> str:
    by_lower = {c.lower(): c for c in classes}
    close = difflib.get_close_matches(label.strip().lower(), list(by_lower), n=1, cutoff=0.5)
    if close:
        return f" (did you mean {by_lower[close[0]]!r}?)"
    return f"; known labels: {', '.join(classes)}"


def _incomplete_event(row) -> str:
    empty = [c for c in STRONG_COLUMNS[1:] if getattr(row, c) == ""]
    return f"empty {', '.join(empty)}: an event needs onset, offset and event_label (all three empty for a clip without events)"


def _duration_problems(
    path: Path, table: pd.DataFrame, events: pd.DataFrame, durations: Mapping[str, float], tolerance_s: float
) -> tuple[TsvFormatError | None, TsvFormatError | None]:
    unknown = _problem(path, table, ~table["filename"].isin(list(durations)), lambda row: f"clip {row['filename']!r} has no duration in the durations given")
    duration = events["filename"].map(durations).astype(float)
    return unknown, _problem(
        path,
        events.assign(duration=duration),
        events["offset"] > duration + tolerance_s,
        lambda row: f"event {row['event_label']} ends at {row['offset']:.3f} s, past the clip's duration {row['duration']:.3f} s",
    )


def _merge_overlaps(path: Path, events: pd.DataFrame) -> pd.DataFrame:
    """Merge same-class events of a clip that overlap or touch (onset <= an earlier offset), with a warning."""
    events = events.sort_values(["filename", "event_label", "onset", "offset"], kind="stable")
    same_track = (events["filename"] == events["filename"].shift()) & (events["event_label"] == events["event_label"].shift())
    running_offset = events.groupby(["filename", "event_label"], sort=False)["offset"].cummax()
    continues = same_track & (events["onset"] <= running_offset.shift())
    if not continues.any():
        return events
    segment = (~continues).cumsum()
    merged = events.groupby(segment, sort=False).agg(
        filename=("filename", "first"), onset=("onset", "min"), offset=("offset", "max"), event_label=("event_label", "first"), line=("line", "min")
    )
    involved = events.loc[continues | continues.shift(-1, fill_value=False), ["filename", "line"]]
    clips = pd.unique(involved["filename"])
    listed = "; ".join(f"{name!r} (lines {_list_lines(sorted(involved.loc[involved['filename'] == name, 'line']))})" for name in clips[:3])
    warnings.warn(
        f"{path}: merged {int(continues.sum())} same-class overlapping or touching event(s) into earlier ones in "
        f"{len(clips)} clip(s): {listed}{' ...' if len(clips) > 3 else ''}",
        UserWarning,
        stacklevel=3,
    )
    return merged.reset_index(drop=True)


def _more_lines(line_nos: np.ndarray) -> str:
    if len(line_nos) <= 1:
        return ""
    return f" ({len(line_nos)} lines with this problem: {_list_lines(line_nos)})"


def _list_lines(line_nos: Sequence[int]) -> str:
    shown = ", ".join(str(int(n)) for n in list(line_nos)[:_MAX_LISTED_LINES])
    return shown + (", ..." if len(line_nos) > _MAX_LISTED_LINES else "")


def _tabbed(fields: Sequence[str]) -> str:
    return "'" + "<TAB>".join(fields) + "'"


# --------------------------------------------------------------------------- writing


def _write_lines(path: str | Path, columns: tuple[str, ...], lines: list[str]) -> None:
    atomic_write_text(path, "\n".join(["\t".join(columns), *lines]) + "\n")


def _check_unique_names(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"clip names must be non-empty strings, got {name!r}")
        if name in seen:
            raise ValueError(f"duplicate clip {name!r}")
        seen.add(name)


def _check_text_fields(values: Iterable[str], forbidden: tuple[str, ...]) -> None:
    for value in values:
        if any(char in value for char in forbidden):
            raise ValueError(f"{value!r} contains a tab or a line break, which the TSV format cannot hold")
