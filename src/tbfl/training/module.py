"""The DCASE2021 CRNN mean teacher as a LightningModule, with the classification loss selectable.

Per step (eq. 5 of the paper, with L_cls the selected loss):
    loss = L_cls(strong logits, frame targets) + L_cls(weak pooled probabilities, clip tags)
           + w(t) * [MSE(student, teacher) on strong and weak probabilities of every clip]
with w(t) = max_consistency * exp(-5 (1 - t/T)^2), the learning rate ramped up
on the same curve, and the teacher an EMA of the student.
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn

from tbfl.constants import DESED_CLASSES
from tbfl.evaluation import clip_id, evaluate_scores
from tbfl.features import minmax_scale
from tbfl.model import CRNN, CRNNConfig
from tbfl.training.config import TrainingConfig, loss_from_dict, recipe_frame_grid
from tbfl.training.loss import make_loss
from tbfl.training.schedules import ema_decay, exp_rampup, mixup, update_ema


def weak_macro_f1(probabilities: np.ndarray, targets: np.ndarray, threshold: float = 0.5) -> float:
    """Clip-level macro F1 of (N, C) probabilities against (N, C) tags; a class with no TP counts 0."""
    predicted = probabilities >= threshold
    truth = targets >= 0.5
    tp = (predicted & truth).sum(0)
    fp = (predicted & ~truth).sum(0)
    fn = (~predicted & truth).sum(0)
    denominator = 2 * tp + fp + fn
    f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    return float(f1.mean())


class MeanTeacherSED(L.LightningModule):
    """Student CRNN + EMA teacher; validation on synthetic-validation (strong) and weak-validation clips.

    Args:
        model: CRNNConfig fields (``n_classes`` set from ``classes``).
        loss: the classification loss settings; ``class_weights`` (C,) for cbfl/tbfl, from
            :func:`tbfl.training.loss.class_weights` (kept as hyper-parameters, so checkpoints rebuild the loss).
        training: optimiser, ramp-up, mixup and post-processing settings.
        features: FeatureConfig fields the model was trained on (kept in the checkpoint for detection).

    ``frame_grid`` is the output frame grid of ``features`` and ``model`` (so a checkpoint carries it):
    validation scores are evaluated on it, and ``tbfl detect`` writes its scores on it.
    """

    def __init__(
        self,
        model: dict[str, Any],
        loss: dict[str, Any],
        training: dict[str, Any],
        class_weights: Sequence[float] | None,
        classes: Sequence[str] = DESED_CLASSES,
        features: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.classes = tuple(classes)
        self.training_config = TrainingConfig(**{**training, "batch_sizes": tuple(training.get("batch_sizes", (12, 12, 24)))})
        self.student = CRNN(CRNNConfig(**{**model, "n_classes": len(self.classes)}))
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.frame_grid = recipe_frame_grid(features or {}, model, where="model hyper-parameters")
        self.loss_fn = make_loss(loss_from_dict(loss, where="loss hyper-parameters"), class_weights)
        self.validation_ground_truth = None  # set by the trainer entry point: (StrongLabels, durations)
        self._validation_outputs: dict[int, list] = {}

    # ------------------------------------------------------------------ training
    def _rampup_steps(self) -> float:
        steps_per_epoch = max(1, self.trainer.estimated_stepping_batches // max(1, self.trainer.max_epochs))
        return self.training_config.rampup_epochs * steps_per_epoch

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.student.parameters(), lr=self.training_config.learning_rate, betas=(0.9, 0.999))
        rampup_steps = self._rampup_steps()
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: exp_rampup(step, rampup_steps))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        strong_features, strong_targets, _ = batch["strong"]
        weak_features, weak_targets, _ = batch["weak"]
        unlabeled_features, _ = batch["unlabeled"]
        # One coin per batch for both labelled sub-batches, as the baseline; the draws depend on
        # (seed, step) only, so a resumed run mixes exactly as an uninterrupted one.
        step_seed = self.training_config.seed * 1_000_003 + self.global_step
        generator = torch.Generator().manual_seed(step_seed)
        # dropout draws from the global generator: reseed it per step, so a resumed step drops what it dropped
        torch.manual_seed(step_seed + 500_009)
        if float(torch.rand(1, generator=generator)) < self.training_config.mixup_probability:
            strong_features, strong_targets = mixup(strong_features, strong_targets, generator, self.training_config.mixup_beta)
            weak_features, weak_targets = mixup(weak_features, weak_targets, generator, self.training_config.mixup_beta)
        features = minmax_scale(torch.cat([strong_features, weak_features, unlabeled_features]))
        n_strong, n_weak = len(strong_features), len(weak_features)

        student = self.student(features)
        with torch.no_grad():
            teacher = self.teacher(features)
        strong_loss = self.loss_fn(student.strong_logits[:n_strong], strong_targets)
        weak_loss = self.loss_fn(student.weak_probs[n_strong : n_strong + n_weak], weak_targets, from_logits=False)
        consistency = nn.functional.mse_loss(student.strong_probs, teacher.strong_probs) + nn.functional.mse_loss(
            student.weak_probs, teacher.weak_probs
        )
        consistency_weight = self.training_config.max_consistency * exp_rampup(self.global_step, self._rampup_steps())
        loss = strong_loss + weak_loss + consistency_weight * consistency
        batch_size = len(features)
        self.log_dict(
            {
                "train/loss": loss,
                "train/strong_loss": strong_loss,
                "train/weak_loss": weak_loss,
                "train/consistency": consistency,
                "train/consistency_weight": consistency_weight,
                "train/lr": self.optimizers().param_groups[0]["lr"],
            },
            batch_size=batch_size,
            prog_bar=False,
        )
        self.log("loss", loss, prog_bar=True, logger=False, batch_size=batch_size)
        return loss

    def optimizer_step(self, *args, **kwargs) -> None:
        """The student's step, then the teacher's EMA update: both done before any ``on_train_batch_end``
        hook, so a checkpoint written there (``ResumePoint``) holds this step's teacher."""
        super().optimizer_step(*args, **kwargs)
        step = self.global_step + 1  # Lightning counts the step once this hook returns
        update_ema(self.teacher, self.student, ema_decay(step, self.training_config.ema_decay))

    # ---------------------------------------------------------------- validation
    def on_validation_epoch_start(self) -> None:
        self._validation_outputs = {0: [], 1: []}

    def validation_step(self, batch: tuple, batch_idx: int, dataloader_idx: int = 0) -> None:
        features = minmax_scale(batch[0])
        student, teacher = self.student(features), self.teacher(features)
        self._validation_outputs[dataloader_idx].append(
            {
                "student_strong": student.strong_probs.float().cpu(),
                "teacher_strong": teacher.strong_probs.float().cpu(),
                "student_weak": student.weak_probs.float().cpu(),
                "teacher_weak": teacher.weak_probs.float().cpu(),
                "target": batch[1].float().cpu(),
                "index": batch[-1].cpu(),
            }
        )

    def _gathered(self, dataloader_idx: int) -> dict[str, np.ndarray]:
        """Concatenate this epoch's outputs of one loader (over every DDP rank)."""
        parts = self._validation_outputs.get(dataloader_idx, [])
        if self.trainer.world_size > 1:
            gathered: list = [None] * self.trainer.world_size
            torch.distributed.all_gather_object(gathered, parts)
            parts = [p for rank_parts in gathered for p in rank_parts]
        if not parts:
            return {}
        merged = {key: torch.cat([p[key] for p in parts]).numpy() for key in parts[0]}
        # One row per clip in dataset order (DistributedSampler interleaves ranks and pads with repeats).
        _, first = np.unique(merged["index"], return_index=True)
        return {key: value[first] for key, value in merged.items()}

    def on_validation_epoch_end(self) -> None:
        synth, weak = self._gathered(0), self._gathered(1)
        metrics: dict[str, float] = {}
        for network in ("student", "teacher"):
            weak_f1 = weak_macro_f1(weak[f"{network}_weak"], weak["target"]) if weak else 0.0
            synth_f1 = 0.0
            if synth and self.validation_ground_truth is not None:
                labels, durations = self.validation_ground_truth
                names = self.trainer.datamodule.sets["synth_validation"].filenames
                scores = {clip_id(name): frames for name, frames in zip(names, synth[f"{network}_strong"])}
                result = evaluate_scores(
                    scores, labels, durations, self.classes, frame_hop_s=self.frame_grid.frame_hop_s,
                    median_filter_s=self.training_config.median_filter_s,
                )
                synth_f1 = result.intersection_f1.f1_macro
            metrics[f"val/{network}/weak_f1"] = weak_f1
            metrics[f"val/{network}/synth_intersection_f1"] = synth_f1
            metrics[f"val/{network}/objective"] = weak_f1 + synth_f1
        metrics["val/objective"] = metrics["val/student/objective"]  # the baseline's selection metric
        self.log_dict(metrics, prog_bar=False, sync_dist=False)
        self.log("val_obj", metrics["val/objective"], prog_bar=True, logger=False)

    def network(self, name: str) -> CRNN:
        """``"student"`` or ``"teacher"``."""
        return {"student": self.student, "teacher": self.teacher}[name]
