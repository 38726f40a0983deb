"""``tbfl train``: one run of the recipe into its own folder (layout: :mod:`tbfl.run_folder`)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import signal
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from tbfl.data.dataset import DatasetDescription
from tbfl.evaluation import clip_id, evaluate_scores
from tbfl.io import atomic_path, atomic_write_text, read_yaml
from tbfl.run_folder import RunFolder, check_checkpoint, check_checkpoint_classes
from tbfl.training.config import RecipeConfig, recipe_dataset, recipe_from_dict
from tbfl.training.predict import predict_frames
from tbfl.weights import k_auto_condition


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict
    global_step: int
    interrupted: bool


def _measure_and_weigh(recipe: RecipeConfig, dataset: DatasetDescription) -> tuple[list[float] | None, dict]:
    """The dataset's statistics (r_c counted on the recipe's frame grid) and the loss's class weights (None for
    bce/focal), and their class_weights.json record."""
    from tbfl.data.stats import measure_stats
    from tbfl.training.loss import class_weights, resolve_k

    grid, classes = recipe.frame_grid, dataset.classes
    stats = measure_stats(dataset, n_frames=grid.n_frames, frame_hop_s=grid.frame_hop_s)
    weights = class_weights(recipe.loss, stats)
    weights = None if weights is None else weights.tolist()  # hyper-parameters stay plain YAML
    record = {
        "loss": recipe.to_dict()["loss"], "classes": list(classes), "weights": weights, "statistics": stats.to_dict(),
        "frame_grid": dataclasses.asdict(grid), "volumes_from": stats.volumes_from,
    }
    if recipe.loss.name == "tbfl" and recipe.loss.k == "auto":
        k = resolve_k(recipe.loss, stats)
        loss = recipe.loss
        record["k"] = {"auto": True, "chosen": k, "target": loss.k_auto_target, "rule": loss.k_auto_rule}
        print(f"tbfl train: k: auto -> k = {k:g} ({k_auto_condition(loss.k_auto_rule, loss.k_auto_target)})")
    return weights, record


def _check_or_write_config(folder: RunFolder, recipe: RecipeConfig, resume: bool) -> None:
    path = folder.config
    if path.exists() and resume:
        saved = recipe_from_dict(read_yaml(path), where=str(path))
        if saved.to_dict() != recipe.to_dict():
            raise ValueError(f"{path}: the run folder holds a different config; use a new --out or drop --resume")
        return
    atomic_write_text(path, recipe.to_yaml())


class _DropTips(logging.Filter):
    """Lightning's "💡 Tip: try installing ..." adverts."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip")


@contextlib.contextmanager
def lightning_notices_a_user_can_act_on() -> Iterator[None]:
    """Hide what Lightning and torch print that a tbfl user cannot act on: the "💡 Tip" adverts and the
    FutureWarning about ``LeafSpec`` that Lightning's own code triggers in torch. Other warnings still show."""
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    tips = _DropTips()
    rank_zero.addFilter(tips)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning)
            yield
    finally:
        rank_zero.removeFilter(tips)


def _keep_csv_history(log_dir: Path) -> None:
    """Lightning's CSVLogger would delete an earlier metrics.csv: keep it as metrics-<n>.csv."""
    earlier = log_dir / "metrics.csv"
    if earlier.is_file():
        n = len(list(log_dir.glob("metrics-*.csv"))) + 1
        earlier.rename(log_dir / f"metrics-{n}.csv")


def train_run(
    recipe: RecipeConfig,
    run_dir: str | Path,
    *,
    devices: int | str = 1,
    accelerator: str = "auto",
    num_nodes: int = 1,
    resume: bool = False,
    progress: bool = True,
    callbacks: Sequence = (),
) -> RunResult:
    """Train one model, then score and evaluate the dataset's evaluation set with the best checkpoint.

    The classes, sets and roles come from the recipe's dataset description (``data.dataset``; DESED 2021 by default).

    The run folder is locked for the whole call: a second process training into it is refused.
    """
    folder = RunFolder(run_dir)
    # DDP ranks other than 0 re-enter here in their own processes: only rank 0 holds the lock.
    first_rank = all(os.environ.get(name, "0") == "0" for name in ("RANK", "LOCAL_RANK", "NODE_RANK"))
    with folder.lock() if first_rank else contextlib.nullcontext(), lightning_notices_a_user_can_act_on():
        return _train_locked(recipe, folder, devices=devices, accelerator=accelerator, num_nodes=num_nodes, resume=resume,
                             progress=progress, callbacks=callbacks)


def _train_locked(recipe: RecipeConfig, folder: RunFolder, *, devices, accelerator, num_nodes, resume, progress, callbacks) -> RunResult:
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    from lightning.pytorch.callbacks import EarlyStopping

    from tbfl.features import FeatureConfig
    from tbfl.training.callbacks import LearningCurve, ResumePoint
    from tbfl.training.cpu import keep_freed_memory
    from tbfl.training.datamodule import DesedDataModule
    from tbfl.training.module import MeanTeacherSED

    run_dir = folder.path
    if not resume and folder.checkpoints.exists():
        raise ValueError(f"{run_dir}: holds an earlier run; continue it with --resume or choose a new --out")
    last_checkpoint = folder.last_checkpoint
    dataset = recipe_dataset(recipe)
    classes = dataset.classes
    if resume and last_checkpoint.exists():
        # a damaged file, or one trained on other classes: one clear error before any work
        check_checkpoint_classes(last_checkpoint, check_checkpoint(last_checkpoint), classes, dataset.source)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_or_write_config(folder, recipe, resume)
    _keep_csv_history(folder.logs)
    class_weights, weights_record = _measure_and_weigh(recipe, dataset)
    atomic_write_text(folder.class_weights, json.dumps(weights_record, indent=2))

    training = recipe.training
    if accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available()):
        keep_freed_memory()
    L.seed_everything(training.seed, workers=True, verbose=False)
    datamodule = DesedDataModule(
        dataset,
        frame_grid=recipe.frame_grid,
        batch_sizes=training.batch_sizes,
        feature_config=FeatureConfig(**recipe.features),
        cache_dir=recipe.data.cache_dir,
        weak_validation_fraction=recipe.data.weak_validation_fraction,
        seed=training.seed,
        num_workers=recipe.data.num_workers,
        progress=progress,
        epoch_mode=training.epoch_mode,
    )
    module = MeanTeacherSED(recipe.model, recipe.to_dict()["loss"], recipe.to_dict()["training"], class_weights, classes, recipe.features)
    module.validation_ground_truth = datamodule.validation_ground_truth()

    checkpoints = folder.checkpoints
    best = ModelCheckpoint(dirpath=checkpoints, filename="best-{epoch:03d}", monitor=training.monitor, mode="max", save_top_k=1)
    last = ResumePoint(last_checkpoint, training.checkpoint_every_n_steps)
    curve = LearningCurve(folder.learning_curve, training.monitor)
    stopping = (
        [EarlyStopping(training.monitor, mode="max", patience=training.early_stopping_patience, min_delta=training.early_stopping_min_delta)]
        if training.early_stopping_patience
        else []
    )
    multi = (isinstance(devices, int) and devices > 1) or num_nodes > 1
    trainer = L.Trainer(
        default_root_dir=run_dir,
        max_epochs=training.max_epochs,
        accelerator=accelerator,
        devices=devices,
        num_nodes=num_nodes,
        strategy="ddp" if multi else "auto",
        precision=training.precision,
        callbacks=[best, last, curve, *stopping, *callbacks],
        logger=[CSVLogger(run_dir, name="logs", version=""), TensorBoardLogger(run_dir, name="logs", version="")],
        check_val_every_n_epoch=training.validate_every_n_epochs,
        log_every_n_steps=training.log_every_n_steps,
        limit_train_batches=None if training.limit_train_batches == 1.0 else training.limit_train_batches,  # None: no notice
        num_sanity_val_steps=0,
        enable_progress_bar=progress,
        enable_model_summary=False,
    )
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=last_checkpoint if resume and last_checkpoint.exists() else None)
    except SystemExit:
        # Lightning turns Ctrl-C into a graceful shutdown, then sys.exit(1), and leaves SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if not trainer.interrupted:
            raise
        return RunResult(run_dir, {}, trainer.global_step, True)
    last.save(trainer)
    metrics: dict = {}
    if trainer.is_global_zero:
        # a resume from a last.ckpt older than the latest best swap may name a deleted file
        best_path = best.best_model_path if best.best_model_path and Path(best.best_model_path).is_file() else str(last_checkpoint)
        best_row = curve.best()
        stopped_early = bool(stopping) and stopping[0].stopped_epoch > 0
        ending = {
            "epochs_trained": trainer.current_epoch,
            "steps": trainer.global_step,
            "best_epoch": best_row["epoch"] if best_row else None,
            "best_monitor": best_row["monitor"] if best_row else None,
            "stop_reason": f"plateau ({training.early_stopping_patience} epochs)" if stopped_early else f"max_epochs ({training.max_epochs})",
            "early_stopping_min_delta": training.early_stopping_min_delta,
        }
        metrics = score_and_evaluate(best_path, recipe, dataset, run_dir, datamodule, ending)
    return RunResult(run_dir, metrics, trainer.global_step, False)


def score_and_evaluate(
    checkpoint: str | Path, recipe: RecipeConfig, dataset: DatasetDescription, run_dir: Path, datamodule, ending: dict | None = None
) -> dict:
    """Score the evaluation set's clips with audio (and the weak-validation clips) with one checkpoint; write scores and metrics.

    Scores lie on the checkpoint's frame grid. Both networks are evaluated, as the baseline does; ``eval_model``'s
    scores are written and its metrics are the top level of metrics.json. ``ending`` (how training stopped) is stored under "training".
    """
    from tbfl.data.present import present_strong_labels
    from tbfl.data.desed import read_strong_tsv
    from tbfl.evaluation import write_scores
    from tbfl.training.datamodule import set_durations_s
    from tbfl.training.module import MeanTeacherSED

    module = MeanTeacherSED.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=False)
    classes = dataset.classes
    evaluation = dataset.evaluation
    audio_dir = evaluation.audio_dir()
    labels = present_strong_labels(evaluation.name, read_strong_tsv(evaluation.require_labels(), classes), audio_dir)
    filenames = sorted(labels.filenames)
    durations = set_durations_s(evaluation, filenames)
    median_filter_s = recipe.training.median_filter_s
    frame_hop_s = module.frame_grid.frame_hop_s
    results = {}
    for name in ("student", "teacher"):
        probabilities, _ = predict_frames(module.network(name).eval(), datamodule.cache, [audio_dir / f for f in filenames])
        scores = {clip_id(f): frames for f, frames in zip(filenames, probabilities)}
        results[name] = evaluate_scores(scores, labels, durations, classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s)
        if name == recipe.training.eval_model:
            write_scores(RunFolder(run_dir).scores, scores, classes, frame_hop_s=frame_hop_s)
            with atomic_path(RunFolder(run_dir).validation_scores) as tmp:
                np.savez_compressed(
                    tmp, filenames=np.array(filenames), probabilities=probabilities.astype(np.float16), classes=np.array(classes), frame_hop_s=frame_hop_s
                )
    network = module.network(recipe.training.eval_model).eval()
    synth_threshold = _synth_validation_threshold(network, datamodule, run_dir, classes, frame_hop_s, median_filter_s)
    sweep = results[recipe.training.eval_model].event_f1_sweep
    at_synth_threshold = sweep.at(sweep.index_of(synth_threshold))

    weak = datamodule.sets.get("weak_validation")
    if weak:  # a dataset without weak sets has no weak-validation clips
        _, weak_logits = predict_frames(network, datamodule.cache, weak.audio_paths)
        with atomic_path(RunFolder(run_dir).weak_logits) as tmp:
            np.savez_compressed(tmp, filenames=np.array(weak.filenames), logits=weak_logits, weak_targets=weak.weak, classes=np.array(classes))

    metrics = {
        **results[recipe.training.eval_model].to_dict(),
        "event_f1_synth_threshold": at_synth_threshold.f1_macro,
        "event_f1_synth_threshold_value": synth_threshold,
        "checkpoint": str(Path(checkpoint).name),
        "eval_model": recipe.training.eval_model,
        "networks": {name: result.to_dict() for name, result in results.items()},
        "training": ending or {},
    }
    metrics["details"]["event_f1_synth_threshold"] = at_synth_threshold.to_dict()
    atomic_write_text(RunFolder(run_dir).metrics, json.dumps(metrics, indent=2, default=_json_default))
    return metrics


def _synth_validation_threshold(network, datamodule, run_dir: Path, classes: Sequence[str], frame_hop_s: float, median_filter_s: float) -> float:
    """The single threshold with the best macro event-F1 on the set that selects checkpoints (DESED's synthetic
    validation set; lowest threshold on ties), stored with its (float16) scores so the choice can be checked.

    With an evaluation set (DESED: the held-out ``validation`` set) the threshold is never chosen on the
    evaluated clips; a dataset description without one is evaluated on this same set.
    """
    clips = datamodule.sets["synth_validation"]
    labels, durations = datamodule.validation_ground_truth()
    probabilities, _ = predict_frames(network, datamodule.cache, clips.audio_paths)
    scores = {clip_id(f): frames for f, frames in zip(clips.filenames, probabilities)}
    result = evaluate_scores(scores, labels, durations, classes, frame_hop_s=frame_hop_s, median_filter_s=median_filter_s)
    with atomic_path(RunFolder(run_dir).synth_validation_scores) as tmp:
        np.savez_compressed(tmp, filenames=np.array(clips.filenames), probabilities=probabilities.astype(np.float16),
                            classes=np.array(classes), frame_hop_s=frame_hop_s)
    return float(result.event_f1_best.thresholds[0])


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")
