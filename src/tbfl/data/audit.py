"""The audit behind ``tbfl check``: what of a DESED-format tree is really there.

:func:`audit_dataset` reports per set what is listed, present, missing, extra or unreadable, with the
sample rates, channels and durations found in the audio headers (no decoding), and the soundbank's
files per class. Training and ``stats`` keep the present clips with :mod:`tbfl.data.present`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile as sf

from tbfl.constants import DESED_CLASSES
from tbfl.data.audio import audio_files
from tbfl.data.desed import TsvFormatError, read_durations_tsv, read_strong_tsv, read_unlabeled_tsv, read_weak_tsv
from tbfl.data.layout import DesedLayout, LayoutError
from tbfl.data.present import SHOWN as _SHOWN
from tbfl.data.soundbank import class_folders
from tbfl.io import atomic_write_text

@dataclass(frozen=True)
class ClipSetSpec:
    """One clip set of the layout: its name, label-file and audio-folder entries, label kind, durations entry."""

    name: str
    tsv: str
    audio: str
    labels: str  # strong | weak | unlabeled
    durations_tsv: str | None = None


#: The clip sets of a DESED 2021 tree, in the order the baseline lists them.
CLIP_SETS = (
    ClipSetSpec("synth_train", "synth_train_tsv", "synth_train_audio", "strong"),
    ClipSetSpec("weak", "weak_tsv", "weak_audio", "weak"),
    ClipSetSpec("unlabeled", "unlabeled_tsv", "unlabeled_audio", "unlabeled"),
    ClipSetSpec("synth_validation", "synth_val_tsv", "synth_val_audio", "strong", "synth_val_durations_tsv"),
    ClipSetSpec("validation", "validation_tsv", "validation_audio", "strong", "validation_durations_tsv"),
)


def broken_audio_links(folder: str | Path) -> dict[str, str]:
    """Audio-named symbolic links directly in ``folder`` that lead to no file: name -> why (a loop, a missing target)."""
    broken = {}
    for path in audio_files(folder):
        if path.is_symlink() and not path.is_file():  # is_file is False for a loop and for a missing target
            try:
                os.stat(path)
                broken[path.name] = f"symbolic link to {os.readlink(path)}, not a file"
            except OSError as error:
                broken[path.name] = f"broken symbolic link to {os.readlink(path)} ({error.strerror})"
    return broken


# --------------------------------------------------------------------------- audit


@dataclass
class SetAudit:
    """The audit of one clip set. Clip lists are file names; durations in seconds.

    ``problem`` says why the set is unusable (None when it has usable clips).
    """

    name: str
    labels_tsv: str
    labels: str
    audio_dir: str | None = None
    sample_rate_note: str = ""
    n_listed: int = 0
    n_present: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    sample_rates_hz: dict[int, int] = field(default_factory=dict)  # rate -> number of files
    channels: dict[int, int] = field(default_factory=dict)  # channel count -> number of files
    duration_s: dict[str, float] = field(default_factory=dict)  # min, max, mean over readable present files
    durations_tsv: str | None = None
    durations_note: str = ""
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


@dataclass
class SoundbankAudit:
    """Foreground source files per class (V_c) and the background files of the soundbank."""

    foreground_dir: str
    files_per_class: dict[str, int] = field(default_factory=dict)
    unknown_folders: list[str] = field(default_factory=list)
    n_background: int = 0
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


@dataclass
class DatasetAudit:
    """The audit of a whole tree: every clip set and the soundbank."""

    root: str
    sets: list[SetAudit]
    soundbank: SoundbankAudit

    @property
    def usable(self) -> bool:
        return self.soundbank.usable and all(audit.usable for audit in self.sets)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready manifest: every list in full (missing, extra, unreadable clips)."""
        sets = {}
        for audit in self.sets:
            entry = asdict(audit)
            entry["usable"] = audit.usable
            entry["sample_rates_hz"] = {str(k): v for k, v in sorted(audit.sample_rates_hz.items())}
            entry["channels"] = {str(k): v for k, v in sorted(audit.channels.items())}
            sets[entry.pop("name")] = entry
        return {"dataset": self.root, "usable": self.usable, "sets": sets, "soundbank": {**asdict(self.soundbank), "usable": self.soundbank.usable}}

    def write_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` atomically."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def format_table(self) -> str:
        """The audit as a text table, then one line per finding."""
        header = f"{'set':<17} {'listed':>7} {'present':>7} {'missing':>7} {'extra':>6} {'unread':>6}  {'rate (Hz)':<16} {'ch':<5} {'duration (s)':<12} audio folder"
        lines = [f"DESED check of {self.root}", header]
        for audit in self.sets:
            rates = ",".join(str(rate) for rate in sorted(audit.sample_rates_hz)) or "-"
            channels = ",".join(str(n) for n in sorted(audit.channels)) or "-"
            durations = f"{audit.duration_s['min']:.2f}-{audit.duration_s['max']:.2f}" if audit.duration_s else "-"
            folder = _relative(audit.audio_dir, self.root) if audit.audio_dir else "-"
            lines.append(
                f"{audit.name:<17} {audit.n_listed:>7,} {audit.n_present:>7,} {len(audit.missing):>7,} {len(audit.extra):>6,} "
                f"{len(audit.unreadable):>6,}  {rates:<16} {channels:<5} {durations:<12} {folder}{audit.sample_rate_note}"
            )
        bank = self.soundbank
        if bank.files_per_class:
            counts = ", ".join(f"{name} {count}" for name, count in bank.files_per_class.items())
            lines.append(f"soundbank: {sum(bank.files_per_class.values()):,} foreground files ({counts}); {bank.n_background:,} background files")
        for audit in self.sets:
            if audit.missing:
                lines.append(f"{audit.name}: {audit.n_present:,} of {audit.n_listed:,} clips present; missing: {_shown(audit.missing)}")
            if audit.extra:
                lines.append(f"{audit.name}: {len(audit.extra):,} audio file(s) in no label file: {_shown(audit.extra)}")
            for name, reason in list(audit.unreadable.items())[:_SHOWN]:
                lines.append(f"{audit.name}: unreadable {name}: {reason}")
            if audit.durations_note:
                lines.append(f"{audit.name}: {audit.durations_note}")
        if bank.unknown_folders:
            lines.append(f"soundbank: ignored folder(s) of unknown classes: {', '.join(bank.unknown_folders)}")
        unusable = [(audit.name, audit.problem) for audit in self.sets if audit.problem]
        unusable += [("soundbank", bank.problem)] if bank.problem else []
        if unusable:
            lines += [f"UNUSABLE {name}: {problem}" for name, problem in unusable]
        else:
            lines.append("usable: every set has clips to train or evaluate on")
        return "\n".join(lines)


def audit_dataset(layout: DesedLayout, classes: Sequence[str] = DESED_CLASSES) -> DatasetAudit:
    """Audit every clip set of ``layout`` and its soundbank (reads label files and audio headers, no audio)."""
    if not layout.root.is_dir():
        raise FileNotFoundError(f"{layout.root}: dataset folder not found")
    return DatasetAudit(str(layout.root), [audit_set(layout, spec, classes) for spec in CLIP_SETS], audit_soundbank(layout, classes))


def audit_set(layout: DesedLayout, spec: ClipSetSpec, classes: Sequence[str] = DESED_CLASSES) -> SetAudit:
    """The audit of one clip set; a missing or invalid label file or audio folder makes it unusable."""
    audit = SetAudit(spec.name, str(layout.path(spec.tsv)), spec.labels)
    try:
        listed = _listed_clips(layout.require(spec.tsv), spec.labels, classes)
    except (LayoutError, TsvFormatError) as error:
        audit.problem = str(error)
        return audit
    audit.n_listed = len(listed)
    try:
        folder = layout.audio_dir(spec.audio)
    except LayoutError as error:
        audit.problem, audit.missing = str(error), listed
        return audit
    audit.audio_dir = str(folder)
    if folder != layout.path(spec.audio):
        audit.sample_rate_note = " (original audio: resampled to 16 kHz when cached)"
    on_disk = {path.name for path in audio_files(folder)}
    listed_set = set(listed)
    present = [name for name in listed if name in on_disk]
    audit.n_present = len(present)
    audit.missing = [name for name in listed if name not in on_disk]
    audit.extra = sorted(on_disk - listed_set)
    rates, channels, durations = Counter(), Counter(), []
    for name in present:
        try:
            info = sf.info(str(folder / name))
            if info.frames <= 0 or info.samplerate <= 0:
                raise ValueError("no samples")
        except (sf.SoundFileError, RuntimeError, ValueError) as error:
            audit.unreadable[name] = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            continue
        rates[info.samplerate] += 1
        channels[info.channels] += 1
        durations.append(info.frames / info.samplerate)
    audit.unreadable.update(broken_audio_links(folder))  # listed or not, with the reason libsndfile cannot give
    audit.sample_rates_hz, audit.channels = dict(rates), dict(channels)
    if durations:
        audit.duration_s = {"min": float(np.min(durations)), "max": float(np.max(durations)), "mean": float(np.mean(durations))}
    if spec.durations_tsv:
        _audit_durations(layout, spec, audit, present)
    if audit.n_listed == 0:
        audit.problem = f"{audit.labels_tsv}: lists no clip"
    elif not present:
        audit.problem = f"{folder}: none of the {audit.n_listed:,} listed clips has audio here"
    elif len(present) == len(audit.unreadable):
        audit.problem = f"{folder}: none of the {len(present):,} clips with audio is readable"
    return audit


def audit_soundbank(layout: DesedLayout, classes: Sequence[str] = DESED_CLASSES) -> SoundbankAudit:
    """Foreground files per class (``<class>_nOn``/``_nOff`` count for the class) and background files."""
    foreground = layout.path("soundbank_foreground")
    audit = SoundbankAudit(str(foreground), dict.fromkeys(classes, 0))
    if not foreground.is_dir():
        audit.problem = f"{foreground}: soundbank foreground folder not found (layout entry 'soundbank_foreground'; needed for V_c)"
        audit.files_per_class = {}
        return audit
    for name, folder in class_folders(foreground):
        if name not in audit.files_per_class:
            audit.unknown_folders.append(folder.name)
            continue
        audit.files_per_class[name] += len(audio_files(folder))
    background = layout.path("soundbank_background")
    if background.is_dir():
        audit.n_background = len(audio_files(background, recursive=True))
    empty = [name for name, count in audit.files_per_class.items() if count == 0]
    if empty:
        audit.problem = f"{foreground}: no foreground file for {', '.join(empty)} (V_c = 0 leaves TBFL/CBFL weights undefined)"
    return audit


def _listed_clips(tsv: Path, labels: str, classes: Sequence[str]) -> list[str]:
    with warnings.catch_warnings():  # merged overlaps and repeated tags are the readers' business, not the audit's
        warnings.simplefilter("ignore")
        if labels == "strong":
            return list(read_strong_tsv(tsv, classes).filenames)
        if labels == "weak":
            return read_weak_tsv(tsv, classes)["filename"].tolist()
        return read_unlabeled_tsv(tsv)


def _audit_durations(layout: DesedLayout, spec: ClipSetSpec, audit: SetAudit, present: list[str]) -> None:
    path = layout.path(spec.durations_tsv)
    audit.durations_tsv = str(path)
    if not path.is_file():
        audit.durations_note = f"no {path.name}: durations are measured from the audio (as the baseline does)"
        return
    try:
        durations = read_durations_tsv(path)
    except TsvFormatError as error:
        audit.problem = str(error)
        return
    lacking = [name for name in present if name not in durations]
    if lacking:
        audit.problem = f"{path}: no duration for {len(lacking):,} clip(s) with audio ({_shown(lacking)})"


def _shown(names: Sequence[str]) -> str:
    return ", ".join(names[:_SHOWN]) + (f", ... ({len(names):,} in all; see the JSON manifest)" if len(names) > _SHOWN else "")


def _relative(path: str, root: str) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path

