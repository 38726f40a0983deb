"""``tbfl sweep``: a grid of training runs, each in its own folder, resumable.

Grid file (YAML)::

    seeds: [1, 2, 3]
    runs:
      - {loss: {name: bce}}
      - {loss: {name: tbfl, uniform_weights: true, gamma: 2.0}}      # "w_c = 1"
      - {loss: {name: tbfl, gamma: 2.0}, sweep: {loss.k: [10, 100, 1000, 10000, inf]}}
      - {loss: {name: tbfl, k: 1000}, sweep: {loss.gamma: [0.5, 1, 2, 3, 5]}}

Each entry gives config sections to override and, optionally, ``sweep``: dotted
keys with lists of values (their cartesian product), and ``seeds`` to replace
the grid's seeds for that entry. Every combination runs once per seed; a run's folder name says what it is (``tbfl_k1000_g2_s1``), so
a configuration listed twice (k=1000, gamma=2 above) runs once. A run whose
``metrics.json`` exists is skipped; a started one resumes from its last
checkpoint.

With an archive folder (``--archive docs/study``), every finished run's summary
(``run_folder.SUMMARY_FILES``, no checkpoints) is copied to
``ARCHIVE/runs/<run>/`` and ``ARCHIVE/runs.csv`` is rewritten: small enough to
commit, and a run found there counts as finished, so a study continues from a
fresh clone.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from tbfl.experiments.runs import load_runs, run_name, runs_table
from tbfl.io import atomic_write_text, read_yaml
from tbfl.recipes import resolve_recipe
from tbfl.run_folder import METRICS_FILE, SUMMARY_FILES, RunFolder
from tbfl.training.config import load_recipe
from tbfl.training.train import train_run

_ARCHIVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class PlannedRun:
    """One training run of a sweep: its folder name and config overrides (dotted keys)."""

    name: str
    overrides: tuple[tuple[str, Any], ...]

    def override_dict(self) -> dict[str, Any]:
        return dict(self.overrides)


def _flatten(entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    flat = {}
    for section, values in entry.items():
        if section in ("sweep", "seeds"):
            continue
        if not isinstance(values, Mapping):
            raise ValueError(f"{where}: section {section!r} must be a mapping of keys to values")
        for key, value in values.items():
            flat[f"{section}.{key}"] = value
    return flat


def plan_runs(grid: Mapping[str, Any], where: str = "grid", base_loss: Mapping[str, Any] | None = None) -> list[PlannedRun]:
    """Expand a grid into runs, in file order, each configuration once per seed.

    Run names come from the loss settings the run will really use: ``base_loss``
    (the base config's ``loss`` section) under the entry's overrides. Two
    entries giving one name with different settings are an error.
    """
    base = {f"loss.{key}": value for key, value in (base_loss or {}).items()}
    if not isinstance(grid, Mapping):
        raise ValueError(f"{where}: a grid is a mapping with 'runs' (a list of entries) and optionally 'seeds', not a {type(grid).__name__}")
    seeds = _seeds(grid.get("seeds", [42]), where)
    entries = grid.get("runs")
    if not entries:
        raise ValueError(f"{where}: no 'runs' listed")
    if not isinstance(entries, list):
        raise ValueError(f"{where}: 'runs' must be a list of entries (each a mapping: '- {{loss: {{name: bce}}}}'), not a {type(entries).__name__}")
    unknown = sorted(set(grid) - {"seeds", "runs"})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected 'seeds' and 'runs'")
    planned: dict[str, PlannedRun] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: run {number} must be a mapping of config sections, not {entry!r}")
        flat = _flatten(entry, f"{where}: run {number}")
        sweep = entry.get("sweep") or {}
        if not isinstance(sweep, Mapping) or any(not isinstance(values, list) or not values for values in sweep.values()):
            raise ValueError(f"{where}: run {number}: 'sweep' maps dotted keys to non-empty lists of values, e.g. {{loss.k: [10, 100]}}; got {sweep!r}")
        keys = list(sweep)
        entry_seeds = _seeds(entry["seeds"], f"{where}: run {number}") if "seeds" in entry else seeds
        for values in itertools.product(*(sweep[key] for key in keys)) if keys else [()]:
            overrides = {**flat, **dict(zip(keys, values))}
            name = run_name({**base, **overrides})
            for seed in entry_seeds:
                run = PlannedRun(f"{name}_s{seed}", tuple(sorted({**overrides, "training.seed": seed}.items())))
                known = planned.setdefault(run.name, run)
                if _effective(base, known) != _effective(base, run):
                    raise ValueError(f"{where}: run {number} gives {run.name} other settings than an earlier entry: {dict(run.overrides)} vs {dict(known.overrides)}")
    return list(planned.values())


def _seeds(seeds: Any, where: str) -> list:
    if not isinstance(seeds, list) or not seeds:
        raise ValueError(f"{where}: 'seeds' must be a non-empty list, e.g. [1, 2, 3]; got {seeds!r}")
    return seeds


def check_runs(config: str | Path, runs: list[PlannedRun]) -> None:
    """Load every run's recipe (the base config under its overrides): a bad value is a ValueError naming the run,
    before any run starts."""
    from tbfl.training.config import load_recipe

    for run in runs:
        try:
            load_recipe(config, run.override_dict())
        except ValueError as error:
            raise ValueError(f"run {run.name}: {error}") from None


def plan_sweep(config: str | Path, grid: str | Path) -> list[PlannedRun]:
    """The runs of ``grid`` on the base ``config``, every one checked (:func:`check_runs`)."""
    from tbfl.training.config import load_recipe

    runs = load_grid(grid, load_recipe(config).to_dict()["loss"])
    check_runs(config, runs)
    return runs


def _effective(base: Mapping[str, Any], run: PlannedRun) -> dict[str, Any]:
    return {**base, **run.override_dict()}


def load_grid(path: str | Path, base_loss: Mapping[str, Any] | None = None) -> list[PlannedRun]:
    """The runs of a grid YAML file (a path, or a shipped grid's name such as ``"grid-paper"``);
    ``base_loss`` is the base config's loss section (for the names)."""
    path = resolve_recipe(path, "grid file")
    grid = read_yaml(path, "grid file")
    return plan_runs(grid, where=str(path), base_loss=base_loss)


def is_archived(run_name: str, archive: Path | None) -> bool:
    return archive is not None and (archive / "runs" / run_name / METRICS_FILE).is_file()


def is_finished(run_dir: Path, archive: Path | None = None) -> bool:
    """True when the run folder, or the archive, holds the run's metrics."""
    return is_archived(run_dir.name, archive) or RunFolder(run_dir).is_finished()


def run_state(run_dir: Path, archive: Path | None = None) -> str:
    """``finished``, ``started, will resume`` (a last checkpoint, no metrics) or ``to run``."""
    if is_finished(run_dir, archive):
        return "finished"
    return "started, will resume" if RunFolder(run_dir).last_checkpoint.is_file() else "to run"


def archive_run(run_dir: Path, archive: Path) -> Path:
    """Copy a finished run's summary to ``archive/runs/<run>/`` (one rename) and rewrite ``archive/runs.csv``."""
    target = archive / "runs" / run_dir.name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{run_dir.name}."))
    try:
        for name in SUMMARY_FILES:
            if (run_dir / name).is_file():
                shutil.copy2(run_dir / name, staging / name)
        with _ARCHIVE_LOCK:
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
            csv_text = runs_table(load_runs(archive / "runs")).to_csv(index=False, float_format="%.4f")
            atomic_write_text(archive / "runs.csv", csv_text)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _train_command(config: Path, run_dir: Path, run: PlannedRun) -> list[str]:
    """A child Python process that calls :func:`train_planned_run` (overrides as JSON, so values keep their types).

    A subprocess, not a thread, for isolation: each run gets its own CUDA_VISIBLE_DEVICES / OMP_NUM_THREADS
    (read when torch starts), its own log file, and a crash or Ctrl-C ends one run, not the sweep.
    """
    payload = json.dumps({"config": str(config), "run_dir": str(run_dir), "overrides": run.override_dict()})
    entry = "import sys; from tbfl.experiments.sweep import train_planned_run; sys.exit(train_planned_run(sys.argv[1]))"
    return [sys.executable, "-c", entry, payload]


def train_planned_run(payload: str) -> int:
    """Entry point of one sweep child process: train (resuming) one run; the exit status as ``tbfl train``'s."""
    job = json.loads(payload)
    try:
        result = train_run(load_recipe(job["config"], job["overrides"]), job["run_dir"], resume=True, progress=False)
    except (ValueError, OSError) as error:
        print(f"tbfl sweep: {job['run_dir']}: error: {error}", file=sys.stderr)
        return 2
    return 130 if result.interrupted else 0


def run_sweep(
    config: str | Path, grid: str | Path, out_dir: str | Path, *, jobs: int = 1, archive: str | Path | None = None, progress: bool = True, log=print
) -> list[Path]:
    """Run every planned run of ``grid`` not finished yet; returns the run folders in plan order.

    ``jobs > 1`` runs that many training processes (:func:`train_planned_run`) at once, each on its
    own GPU when GPUs are present (``CUDA_VISIBLE_DEVICES``), else on the CPU.
    ``archive``: see the module docstring.
    """
    runs = load_grid(grid, load_recipe(config).to_dict()["loss"])
    run_planned(config, runs, out_dir, jobs=jobs, archive=archive, progress=progress, log=log)
    return [Path(out_dir) / run.name for run in runs]


def run_planned(
    config: str | Path, runs: list[PlannedRun], out_dir: str | Path, *, jobs: int = 1, archive: str | Path | None = None, progress: bool = True, log=print
) -> None:
    """Train the planned runs not finished yet (see :func:`run_sweep`)."""
    config, out_dir = Path(config), Path(out_dir)
    archive = Path(archive) if archive is not None else None
    check_runs(config, runs)  # every run's settings, before the first starts
    for run in runs:  # finished before an archive was named, or before a crash between training and archiving
        if archive is not None and is_finished(out_dir / run.name) and not is_archived(run.name, archive):
            archive_run(out_dir / run.name, archive)
    todo = [run for run in runs if not is_finished(out_dir / run.name, archive)]
    log(f"sweep: {len(runs)} runs, {len(runs) - len(todo)} already finished, {len(todo)} to go")
    if jobs <= 1:
        for number, run in enumerate(todo, start=1):
            log(f"[{number}/{len(todo)}] {run.name}")
            result = train_run(load_recipe(config, run.override_dict()), out_dir / run.name, resume=True, progress=progress)
            if result.interrupted:
                raise KeyboardInterrupt(f"sweep interrupted during {run.name}; run it again to continue")
            if archive is not None:
                archive_run(out_dir / run.name, archive)
    else:
        _run_parallel(config, out_dir, todo, jobs, archive, log)


def _run_parallel(config: Path, out_dir: Path, todo: list[PlannedRun], jobs: int, archive: Path | None, log) -> None:
    import queue
    import threading

    import torch

    n_gpus = torch.cuda.device_count()
    free_slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        free_slots.put(slot)
    stop = threading.Event()  # set by Ctrl-C (which reaches the children too): launch nothing more
    failures = []

    def work(run: PlannedRun) -> None:
        slot = free_slots.get()  # one run per slot at a time, so one run per GPU when jobs == n_gpus
        try:
            if stop.is_set():
                return
            env = dict(os.environ)
            if n_gpus:  # the slot-th of the GPUs this process may use
                visible = os.environ.get("CUDA_VISIBLE_DEVICES", ",".join(map(str, range(n_gpus)))).split(",")
                env["CUDA_VISIBLE_DEVICES"] = visible[slot % len(visible)]
            else:  # share the cores: oversubscribed CPU threads make the GRU many times slower
                env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
            run_dir = out_dir / run.name
            run_dir.mkdir(parents=True, exist_ok=True)
            with open(run_dir / "train.log", "a") as log_file:
                code = subprocess.call(_train_command(config, run_dir, run), env=env, stdout=log_file, stderr=subprocess.STDOUT)
        finally:
            free_slots.put(slot)
        if code in (130, -signal.SIGINT):
            stop.set()
            log(f"{run.name}: interrupted")
            return
        status = "done" if code == 0 else f"failed (exit {code}), see {run_dir / 'train.log'}"
        log(f"{run.name}: {status}")
        if code != 0:
            failures.append(run.name)
        elif archive is not None:
            archive_run(run_dir, archive)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            list(pool.map(work, todo))
        except KeyboardInterrupt:
            stop.set()
            raise
    if stop.is_set():
        raise KeyboardInterrupt("sweep interrupted; run it again to continue")
    if failures:
        raise RuntimeError(f"{len(failures)} run(s) failed: {failures}")
