"""Make a whole DESED-format dataset: soundbank, five sets of soundscapes, their TSVs.

Deterministic for a seed: every source and every clip draws from its own RNG
seeded by ``(seed, name, index)``, so ``jobs`` and the order of work do not
matter. Resumable: a file is done when it exists (all writes are atomic);
labels are re-derived from the seed and the TSVs are written when a set is
complete. ``tbfl_synth.json`` at the root records the preset and seed so a
rerun cannot mix two configurations in one folder.
"""

from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from tbfl.constants import CLIP_DURATION_S
from tbfl.data.desed import StrongLabels, write_durations_tsv, write_strong_tsv, write_unlabeled_tsv, write_weak_tsv
from tbfl.data.layout import DesedLayout
from tbfl.io import atomic_write_text
from tbfl.synth.presets import Preset, World, apply_world, get_preset
from tbfl.synth.soundbank import (
    bank_folder,
    import_soundbank,
    index_background,
    index_foreground,
    plan_soundbank,
    stable_id,
    write_credits,
    write_source,
    write_wav,
)
from tbfl.synth.soundscapes import ClipPlan, MixSettings, class_probabilities, plan_clip, render_clip
from tbfl.synth.speech import speech_backend

MANIFEST = "tbfl_synth.json"
T = TypeVar("T")


@dataclass(frozen=True)
class SetSpec:
    """One DESED set: its name (also the clip-name prefix), clip count field, layout entries, bank split."""

    name: str
    count_field: str
    audio: str
    labels: str  # "strong", "weak" or "none"
    tsv: str
    durations_tsv: str | None
    bank_split: str


SETS = (
    SetSpec("synth_train", "n_synth_train", "synth_train_audio", "strong", "synth_train_tsv", None, "train"),
    SetSpec("weak", "n_weak", "weak_audio", "weak", "weak_tsv", None, "train"),
    SetSpec("unlabel_in_domain", "n_unlabeled", "unlabeled_audio", "none", "unlabeled_tsv", None, "train"),
    SetSpec("synth_val", "n_synth_val", "synth_val_audio", "strong", "synth_val_tsv", "synth_val_durations_tsv", "train"),
    SetSpec("validation", "n_validation", "validation_audio", "strong", "validation_tsv", "validation_durations_tsv", "validation"),
)


@dataclass
class SynthReport:
    """What a run made: files written now versus already present, and seconds per phase."""

    root: Path
    preset: str
    seed: int
    speech_backend: str
    sources_written: int = 0
    sources_total: int = 0
    clips_written: dict[str, int] = field(default_factory=dict)
    clips_total: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def generate_dataset(
    out: str | Path,
    preset: str | Preset = "small",
    seed: int = 0,
    jobs: int = 1,
    soundbank: str | Path | None = None,
    progress: bool = True,
    settings: MixSettings = MixSettings(),
    world: World = World(),
) -> SynthReport:
    """Write a DESED-format dataset under ``out`` (see ``DesedLayout``) and return a report.

    ``soundbank=None`` makes a procedural soundbank (espeak-ng for Speech when
    installed); otherwise ``soundbank`` is an existing folder with
    ``foreground/<class>/`` and ``background/`` that is linked into the layout
    (a seeded 20% per class held out for the validation set). ``world`` reshapes the preset
    (:func:`tbfl.synth.presets.apply_world`); its knobs and the resulting soundbank shape go into the manifest.
    """
    preset = get_preset(preset) if isinstance(preset, str) else preset
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if soundbank is not None and any(v is not None for v in (world.volume_spread, world.duration_spread, world.volume_scale, world.heldout_per_class)):
        raise ValueError("the soundbank options (volume/duration spread, volume scale, held-out sources) need the procedural soundbank, not --soundbank")
    preset = apply_world(preset, world)
    layout = DesedLayout(Path(out))
    _claim_folder(layout, preset, seed, soundbank, world)
    backend = speech_backend() if soundbank is None else "from soundbank"
    report = SynthReport(layout.root, preset.name, seed, backend)

    with _workers(jobs) as pool:
        start = time.perf_counter()
        if soundbank is None:
            specs = plan_soundbank(preset, seed)
            todo = [spec for spec in specs if not spec.path(layout).exists()]
            write = functools.partial(write_source, layout=layout, speech_backend=backend)
            report.sources_written = _run_all(write, todo, pool, "soundbank", progress)
            report.sources_total = len(specs)
        else:
            report.sources_written = import_soundbank(Path(soundbank), layout, preset.heldout_fraction, seed)
        write_credits(layout)
        report.seconds["soundbank"] = time.perf_counter() - start

        banks = {split: _index_bank(layout, split) for split in ("train", "validation")}
        if not banks["validation"][1]:  # an existing bank with too few backgrounds to hold any out
            banks["validation"] = (banks["validation"][0], banks["train"][1])
        for set_spec in SETS:
            start = time.perf_counter()
            foreground, background = banks[set_spec.bank_split]
            if not foreground or not background:
                raise ValueError(f"{bank_folder(layout, 'foreground', set_spec.bank_split)}: no sources for the {set_spec.name} set")
            plans = plan_set(set_spec.name, getattr(preset, set_spec.count_field), seed, foreground, background, settings,
                             preset.frame_ratio_target(), preset.event_share_target())
            audio_dir = layout.path(set_spec.audio)
            todo = [plan for plan in plans if not (audio_dir / plan.filename).exists()]
            write = functools.partial(_write_clip, audio_dir=audio_dir, settings=settings)
            report.clips_written[set_spec.name] = _run_all(write, todo, pool, set_spec.name, progress)
            report.clips_total[set_spec.name] = len(plans)
            audio_dir.mkdir(parents=True, exist_ok=True)
            write_set_labels(layout, set_spec, plans)
            report.seconds[set_spec.name] = time.perf_counter() - start
    return report


def plan_set(
    name: str, n_clips: int, seed: int, foreground, background, settings: MixSettings = MixSettings(),
    frame_ratio_target: dict[str, float] | None = None, event_share_target: dict[str, float] | None = None,
) -> list[ClipPlan]:
    """Plans of clips ``{name}_00000.wav ...`` of one set; clip i draws from RNG ``(seed, name, i)``; events aim at
    the frame shares ``frame_ratio_target`` (class -> r_c; None: Table 1's), or are drawn in the shares
    ``event_share_target`` (class -> share of events) when given."""
    probabilities = class_probabilities(foreground, settings, frame_ratio_target, event_share_target)
    return [
        plan_clip(np.random.default_rng([seed, stable_id(name), index]), f"{name}_{index:05d}.wav", foreground, background, probabilities, settings)
        for index in range(n_clips)
    ]


def write_set_labels(layout: DesedLayout, set_spec: SetSpec, plans: list[ClipPlan]) -> None:
    """Write the set's TSV (strong, weak or clip list) and its durations TSV when it has one."""
    filenames = [plan.filename for plan in plans]
    tsv = layout.path(set_spec.tsv)
    if set_spec.labels == "strong":
        rows = [row for plan in plans for row in plan.strong_rows()]
        events = pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])
        write_strong_tsv(tsv, StrongLabels(events, tuple(filenames)))
    elif set_spec.labels == "weak":
        write_weak_tsv(tsv, pd.DataFrame({"filename": filenames, "event_labels": [plan.tags() for plan in plans]}))
    else:
        write_unlabeled_tsv(tsv, filenames)
    if set_spec.durations_tsv:
        write_durations_tsv(layout.path(set_spec.durations_tsv), {name: CLIP_DURATION_S for name in filenames})


def _index_bank(layout: DesedLayout, split: str) -> tuple[tuple, tuple]:
    """(foreground, background) source files of one bank split; empty where a folder is missing."""
    folders = [bank_folder(layout, role, split) for role in ("foreground", "background")]
    return tuple(index(folder) if folder.is_dir() else () for index, folder in zip((index_foreground, index_background), folders))


def _write_clip(plan: ClipPlan, audio_dir: Path, settings: MixSettings) -> bool:
    """Mix and write one clip unless it exists; True if written."""
    path = audio_dir / plan.filename
    if path.exists():
        return False
    write_wav(path, render_clip(plan, settings))
    return True


@contextlib.contextmanager
def _workers(jobs: int) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of ``jobs`` processes for the whole run (None: work in this process)."""
    if jobs == 1:
        yield None
        return
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_interrupts)
    try:
        yield pool
    except BaseException:  # Ctrl-C or an error: drop queued work; files being written finish atomically
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which cancels the queue."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_all(fn: Callable[[T], bool], items: list[T], pool: ProcessPoolExecutor | None, what: str, progress: bool) -> int:
    """Apply ``fn`` to every item (in ``pool`` if given) behind a progress bar; the number of True results."""
    chunk = max(1, min(16, len(items) // 16))
    results = pool.map(fn, items, chunksize=chunk) if pool and len(items) > 1 else map(fn, items)
    with tqdm(total=len(items), desc=what, unit="file", disable=not progress or not items, leave=False) as bar:
        n_true = 0
        for done in results:
            n_true += bool(done)
            bar.update()
    return n_true


def _claim_folder(layout: DesedLayout, preset: Preset, seed: int, soundbank: str | Path | None, world: World = World()) -> None:
    """Record (or check) the preset, seed and soundbank this folder is generated with; with a world, its knobs and
    the shape they give (V_c, mean source lengths, held-out sources per class, validation clips)."""
    wanted = {"preset": preset.name, "seed": seed, "soundbank": str(Path(soundbank).resolve()) if soundbank else "procedural"}
    if not world.is_default():
        wanted["world"] = {
            **world.to_dict(), "sources_per_class": list(preset.sources_per_class), "mean_source_length_s": list(preset.mean_source_length_s),
            "heldout_per_class": [preset.heldout_foreground_count(n) for n in preset.sources_per_class], "n_validation": preset.n_validation,
            **({} if preset.frame_ratio_targets is None else {"frame_ratio_targets": list(preset.frame_ratio_targets)}),
            **({} if preset.event_share_targets is None else {"event_share_targets": list(preset.event_share_targets)}),
        }
    manifest = layout.root / MANIFEST
    if manifest.exists():
        found = json.loads(manifest.read_text(encoding="utf-8"))
        if found != wanted:
            raise ValueError(f"{manifest}: this folder was generated with {found}, not {wanted}; use another --out or the same options to resume")
        return
    atomic_write_text(manifest, json.dumps(wanted, indent=2) + "\n")
