"""The soundbank: procedural source files per class and background kind, their index and credits.

Folders (relative to the dataset root):

- training foreground ``layout.soundbank_foreground/<class>/*.wav`` (V_c files per class),
- training background ``layout.soundbank_background/<kind>/*.wav``,
- held-out foreground ``soundbank/audio/validation/foreground/<class>/*.wav`` and
  background ``soundbank/audio/validation/background/<kind>/*.wav``, used only by
  the stand-in "validation" set, so that it measures generalisation to unseen sources,
- ``soundbank/credits.tsv``: file, role, split, label, generator, licence for every file.

Each generated WAV carries its generator description and licence in its own
metadata (comment / copyright), so the credits survive an interrupted run.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import threading
from collections import Counter
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from tbfl.constants import DESED_CLASSES
from tbfl.data.audio import audio_files
from tbfl.data.layout import DesedLayout
from tbfl.data.soundbank import class_folders
from tbfl.io import atomic_path, atomic_write_bytes, atomic_write_text
from tbfl.synth import dsp
from tbfl.synth.backgrounds import BACKGROUNDS
from tbfl.synth.dsp import SR
from tbfl.synth.generators import PROCEDURAL
from tbfl.synth.presets import Preset
from tbfl.synth.speech import speech

HELDOUT_FOREGROUND = "soundbank/audio/validation/foreground"
HELDOUT_BACKGROUND = "soundbank/audio/validation/background"
CREDITS_TSV = "soundbank/credits.tsv"
LICENCE = "CC0-1.0"
SOURCE_LENGTH_RANGE_S = (0.25, 90.0)


def stable_id(text: str) -> int:
    """A platform-independent integer for a name (for seeding)."""
    return zlib.crc32(text.encode("utf-8"))


def bank_folder(layout: DesedLayout, role: str, split: str) -> Path:
    """Absolute folder of the ``role`` ("foreground"/"background") files of ``split`` ("train"/"validation")."""
    if split == "train":
        return layout.path(f"soundbank_{role}")
    return layout.root / (HELDOUT_FOREGROUND if role == "foreground" else HELDOUT_BACKGROUND)


@dataclass(frozen=True)
class SourceSpec:
    """One soundbank file to generate: what, where, how long, and its seed."""

    role: str
    split: str
    label: str
    index: int
    n_samples: int
    seed: tuple[int, ...]

    @property
    def filename(self) -> str:
        return f"{self.label}_{self.index:04d}.wav"

    def path(self, layout: DesedLayout) -> Path:
        return bank_folder(layout, self.role, self.split) / self.label / self.filename


def source_lengths_s(rng: np.random.Generator, n: int, mean_s: float, sigma: float = 0.5) -> np.ndarray:
    """``n`` log-normal lengths (s, millisecond grid) whose average is ``mean_s`` (to within rounding)."""
    low, high = SOURCE_LENGTH_RANGE_S[0], min(SOURCE_LENGTH_RANGE_S[1], 4 * mean_s)
    lengths = rng.lognormal(0.0, sigma, n)
    for _ in range(20):
        lengths = np.clip(lengths * mean_s / lengths.mean(), low, high)
    return np.maximum(np.round(lengths, 3), 0.001)


def plan_soundbank(preset: Preset, seed: int) -> list[SourceSpec]:
    """Every file of the procedural soundbank for ``preset``: training sources, then held-out ones."""
    specs = []
    for class_index, (label, n_train, mean_s) in enumerate(zip(DESED_CLASSES, preset.sources_per_class, preset.mean_source_length_s)):
        rng = np.random.default_rng([seed, stable_id("lengths"), class_index])
        lengths = np.concatenate([source_lengths_s(rng, n_train, mean_s), source_lengths_s(rng, preset.heldout_foreground_count(n_train), mean_s)])
        for index, length_s in enumerate(lengths):
            split = "train" if index < n_train else "validation"
            specs.append(SourceSpec("foreground", split, label, index, int(round(length_s * SR)), (seed, stable_id(label), index)))
    for kind in BACKGROUNDS:
        n_train = preset.backgrounds_per_kind
        rng = np.random.default_rng([seed, stable_id("background lengths"), stable_id(kind)])
        for index in range(n_train + preset.heldout_count(n_train)):
            split = "train" if index < n_train else "validation"
            n_samples = int(round(rng.uniform(*preset.background_length_s), 3) * SR)
            specs.append(SourceSpec("background", split, kind, index, n_samples, (seed, stable_id(kind), index)))
    return specs


def render_source(spec: SourceSpec, speech_backend: str) -> tuple[np.ndarray, str]:
    """Audio ``(spec.n_samples,)`` in [-1, 1] and a description of how it was made.

    Foreground sounds pass through a random recording chain (spectral tilt,
    small room) and all files are loudness-normalised (active RMS -20 dBFS), so
    level is no cue to the class.
    """
    rng = np.random.default_rng(spec.seed)
    if spec.role == "background":
        audio, how = BACKGROUNDS[spec.label](rng, spec.n_samples), f"procedural background '{spec.label}'"
    elif spec.label == "Speech":
        audio, how = speech(rng, spec.n_samples, speech_backend)
    else:
        audio, how = PROCEDURAL[spec.label](rng, spec.n_samples), f"procedural {spec.label}"
    if spec.role == "foreground":
        audio = dsp.spectral_tilt(audio, rng.uniform(-2.0, 2.0))
        if rng.random() < 0.7:
            audio = dsp.room_reverb(audio, rng, rng.uniform(0.1, 0.6), rng.uniform(0.05, 0.35))
        audio = dsp.fade(audio, 0.003, 0.01)
    how = f"tbfl.synth {how}, seed {list(spec.seed)}"
    return dsp.normalise(audio, rms_dbfs=-20.0), how


def write_source(spec: SourceSpec, layout: DesedLayout, speech_backend: str) -> bool:
    """Render and write ``spec`` (PCM_16, atomically) unless it exists; True if written."""
    path = spec.path(layout)
    if path.exists():
        return False
    audio, how = render_source(spec, speech_backend)
    write_wav(path, audio, comment=how, licence=LICENCE)
    return True


def write_wav(path: Path, audio: np.ndarray, comment: str = "", licence: str = "") -> None:
    """Write mono 16 kHz PCM_16 atomically, with a comment and a licence in the WAV metadata.

    The WAV is encoded in memory first, so a full disk is a plain OSError naming ``path``
    (libsndfile would only say "System error").
    """
    buffer = io.BytesIO()
    # libsndfile writes to the buffer through cffi callbacks, and a Ctrl-C raised inside one is swallowed
    # (a short write, then soundfile's AssertionError): hold SIGINT back for the few milliseconds of encoding
    with deferred_interrupts(), sf.SoundFile(buffer, "w", SR, 1, "PCM_16", format="WAV") as out:
        if comment:
            out.comment = comment
        if licence:
            out.copyright = licence
        out.write(np.asarray(audio, dtype=np.float32))
    atomic_write_bytes(path, buffer.getvalue())


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back for the block: one that arrives meanwhile reaches the usual handler after it.

    Only the main thread can change handlers; elsewhere, and where SIGINT is ignored (the pool's workers),
    this does nothing.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            previous(signal.SIGINT, received[0])


# --- Index of an existing soundbank folder -------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """One source file of a soundbank: its label, absolute path and length at 16 kHz."""

    label: str
    path: str
    n_samples: int


def _source_file(label: str, path: Path) -> SourceFile:
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError) as error:
        raise ValueError(f"{path}: not a readable audio file ({error})") from None
    n_samples = int(info.frames * SR // info.samplerate)
    if n_samples < 16:
        raise ValueError(f"{path}: audio file is empty or shorter than 1 ms")
    return SourceFile(label, str(path), n_samples)


def index_foreground(folder: Path) -> tuple[SourceFile, ...]:
    """Every foreground file under ``folder/<class>[_nOn][_nOff]/`` (:mod:`tbfl.data.soundbank`), sorted by class then path.

    DESED's classes come first in DESED's order, any other class after them by name.
    """
    files = [_source_file(label, path) for label, sub in class_folders(folder) for path in audio_files(sub, recursive=True)]
    order = {name: i for i, name in enumerate(DESED_CLASSES)}
    return tuple(sorted(files, key=lambda f: (order.get(f.label, len(order)), f.label, f.path)))


def index_background(folder: Path) -> tuple[SourceFile, ...]:
    """Every background file under ``folder`` (any depth); the kind is the first sub-folder's name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: soundbank background folder not found")
    files = []
    for path in audio_files(folder, recursive=True):
        relative = path.relative_to(folder)
        files.append(_source_file(relative.parts[0] if len(relative.parts) > 1 else "background", path))
    return tuple(files)


# --- Using an existing soundbank ----------------------------------------------


def import_soundbank(source_root: Path, layout: DesedLayout, heldout_fraction: float, seed: int) -> int:
    """Link (or copy) an existing soundbank ``source_root/{foreground,background}`` into ``layout``.

    Per class (variant folders merged into the class folder) and per background
    kind, a seeded ``heldout_fraction`` of the files (none if a class has only
    one) goes to the held-out folders. Files already in place are kept.
    Returns the number of files linked or copied.
    """
    source_root = Path(source_root)
    if (source_root / "foreground").is_dir():  # the presets mix DESED's classes: a folder of another class is a mistake here
        for label, folder in class_folders(source_root / "foreground"):
            if label not in DESED_CLASSES:
                raise ValueError(f"{folder}: foreground folder is not a DESED class (expected one of {', '.join(DESED_CLASSES)}, optionally with _nOn/_nOff)")
    groups: dict[tuple[str, str], list[SourceFile]] = {}
    for role, files in (("foreground", index_foreground(source_root / "foreground")), ("background", index_background(source_root / "background"))):
        for source in files:
            groups.setdefault((role, source.label), []).append(source)
    if not any(role == "foreground" for role, _ in groups) or not any(role == "background" for role, _ in groups):
        raise ValueError(f"{source_root}: a soundbank needs audio files in both foreground/<class>/ and background/")
    n_placed = 0
    for (role, label), files in groups.items():
        counts = Counter(Path(f.path).name for f in files)
        clashes = sorted(f.path for f in files if counts[Path(f.path).name] > 1)
        if clashes:
            raise ValueError(f"{clashes[0]}: another {role} file of {label} has the same name ({len(clashes)} files clash); rename one")
        order = np.random.default_rng([seed, stable_id(role), stable_id(label)]).permutation(len(files))
        n_heldout = round(len(files) * heldout_fraction) if len(files) > 1 else 0
        for rank, file_index in enumerate(order):
            source = Path(files[file_index].path)
            split = "validation" if rank < n_heldout else "train"
            target = bank_folder(layout, role, split) / label / source.name
            if target.exists():
                continue
            _link_or_copy(source, target)
            n_placed += 1
    return n_placed


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` to ``target`` (no extra disk), or copy it atomically across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)


# --- Credits ------------------------------------------------------------------


def write_credits(layout: DesedLayout) -> Path:
    """Write ``soundbank/credits.tsv`` (file, role, split, label, generator, licence) for every bank file."""
    rows = ["file\trole\tsplit\tlabel\tgenerator\tlicence"]
    for role in ("foreground", "background"):
        for split in ("train", "validation"):
            folder = bank_folder(layout, role, split)
            if not folder.is_dir():
                continue
            for path in audio_files(folder, recursive=True):
                with sf.SoundFile(path) as audio:
                    generator, licence = audio.comment or "", audio.copyright or ""
                relative = path.relative_to(layout.root).as_posix()
                generator = generator or f"external file (from an existing soundbank, linked as {relative})"
                licence = licence or "unknown: see the licence of the soundbank it came from"
                label = path.relative_to(folder).parts[0] if len(path.relative_to(folder).parts) > 1 else "background"
                rows.append("\t".join(field.replace("\t", " ") for field in (relative, role, split, label, generator, licence)))
    path = layout.root / CREDITS_TSV
    atomic_write_text(path, "\n".join(rows) + "\n")
    return path
