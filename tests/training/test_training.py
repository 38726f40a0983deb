"""Real Lightning training on a tiny generated dataset (seconds per run)."""

import json
import warnings

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch

from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.features import FeatureCache, FeatureConfig
from tbfl.training.loss import make_loss
from tbfl.training.module import MeanTeacherSED, weak_macro_f1
from tbfl.training.train import train_run
from tbfl.weights import time_balanced_weights


@pytest.mark.slow  # trains a tiny model
def test_run_folder_holds_everything(make_recipe, tiny_root, tmp_path):
    result = train_run(make_recipe(), tmp_path / "run", progress=False)
    run = result.run_dir
    for name in ("config.yaml", "class_weights.json", "metrics.json", "weak_validation_logits.npz", "checkpoints/last.ckpt", "logs/metrics.csv"):
        assert (run / name).is_file(), name
    assert list((run / "checkpoints").glob("best-*.ckpt"))
    assert list((run / "logs").glob("events.out.tfevents.*"))
    durations = pd.read_csv(DesedLayout(tiny_root).path("validation_durations_tsv"), sep="\t")
    score_files = sorted((run / "scores" / "validation").glob("*.tsv"))
    assert [p.stem + ".wav" for p in score_files] == sorted(durations["filename"])
    table = pd.read_csv(score_files[0], sep="\t")
    assert list(table.columns[:2]) == ["onset", "offset"] and len(table) == 156
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"psds1", "psds2", "event_f1", "intersection_f1"} <= set(metrics)
    assert result.global_step == 2 * 4  # 2 epochs x (16 strong clips / 4)


@pytest.mark.slow  # trains a tiny model
def test_event_f1_threshold_is_chosen_on_the_synthetic_validation_set(make_recipe, tiny_root, tmp_path):
    """metrics.json's event_f1_synth_threshold: the best macro-F1 threshold of the stored synthetic-validation
    scores (re-evaluated here), read off the validation set's sweep at that threshold."""
    from tbfl.data.desed import read_strong_tsv
    from tbfl.evaluation import clip_id, evaluate_scores

    recipe = make_recipe()
    result = train_run(recipe, tmp_path / "run", progress=False)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    stored = np.load(result.run_dir / "synth_validation_scores.npz")
    layout = DesedLayout(tiny_root)
    classes = tuple(str(c) for c in stored["classes"])
    labels = read_strong_tsv(layout.path("synth_val_tsv"), classes)
    durations = pd.read_csv(layout.path("synth_val_durations_tsv"), sep="\t")
    scores = {clip_id(f): p.astype(np.float32) for f, p in zip(stored["filenames"], stored["probabilities"])}
    again = evaluate_scores(scores, labels, {clip_id(f): d for f, d in zip(durations["filename"], durations["duration"])},
                            classes, frame_hop_s=float(stored["frame_hop_s"]), median_filter_s=recipe.training.median_filter_s)
    chosen = metrics["event_f1_synth_threshold_value"]
    assert chosen == pytest.approx(float(again.event_f1_best.thresholds[0]), abs=0.011)  # float16 storage may move a tie
    sweep = metrics["details"]["event_f1_sweep"]
    assert metrics["event_f1_synth_threshold"] == pytest.approx(sweep["f1"][sweep["thresholds"].index(chosen)])
    per_class = metrics["details"]["event_f1_synth_threshold"]["per_class"]
    assert set(per_class) == set(classes)


@pytest.mark.slow  # trains a tiny model
def test_learning_curve_early_stopping_and_both_networks(make_recipe, tmp_path):
    """Patience 1 on a monitor that cannot improve after epoch 1 stops at epoch 2, before the cap of 6."""
    recipe = make_recipe(training__max_epochs=6, training__early_stopping_patience=1, training__monitor="val/teacher/weak_f1")
    result = train_run(recipe, tmp_path / "run", progress=False)
    curve = pd.read_csv(result.run_dir / "learning_curve.csv")
    assert list(curve.columns[:4]) == ["epoch", "step", "student_objective", "teacher_objective"]
    assert list(curve["epoch"]) == list(range(1, len(curve) + 1)) and list(curve["step"]) == [4 * e for e in curve["epoch"]]
    assert np.allclose(curve["student_objective"], curve["student_weak_f1"] + curve["student_synth_intersection_f1"])
    assert np.allclose(curve["monitor"], curve["teacher_weak_f1"])
    # EarlyStopping stops after `patience` validations without a strictly better monitor
    best = int(curve["monitor"].to_numpy().argmax())
    assert len(curve) == min(6, best + 2)
    training = result.metrics["training"]
    assert training["epochs_trained"] == len(curve) and training["best_epoch"] == best + 1
    assert training["stop_reason"] == ("plateau (1 epochs)" if len(curve) < 6 else "max_epochs (6)")
    assert set(result.metrics["networks"]) == {"student", "teacher"}
    assert result.metrics["psds1"] == result.metrics["networks"]["teacher"]["psds1"]
    with np.load(result.run_dir / "validation_scores.npz") as saved:
        assert saved["probabilities"].dtype == np.float16 and saved["probabilities"].shape[1:] == (10, 156)


@pytest.mark.slow  # trains a tiny model
def test_tbfl_weights_in_checkpoint_equal_dataset_statistics(make_recipe, tiny_root, tmp_path):
    result = train_run(make_recipe(loss__k=100.0), tmp_path / "run", progress=False)
    stats = measure_stats(DesedLayout(tiny_root))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tiny set may leave floor(k r_c) = 0 for a class
        expected = time_balanced_weights(stats.volumes, stats.frame_ratios, 100.0)
    checkpoint = torch.load(result.run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert np.allclose(checkpoint["state_dict"]["loss_fn.weight"].numpy(), expected, rtol=1e-6)
    assert np.allclose(checkpoint["hyper_parameters"]["class_weights"], expected)
    saved = json.loads((result.run_dir / "class_weights.json").read_text())
    assert np.allclose(saved["weights"], expected)
    assert np.allclose(saved["statistics"]["frame_ratios"], stats.frame_ratios)
    module = MeanTeacherSED.load_from_checkpoint(result.run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert torch.allclose(module.loss_fn.weight, torch.as_tensor(expected, dtype=torch.float32))


class StopAtStep(L.Callback):
    """Interrupt training mid-epoch, as Ctrl-C would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise KeyboardInterrupt


@pytest.mark.slow  # trains a tiny model
@pytest.mark.parametrize("checkpoint_every", [1, 5, 8])  # 8: no step save before step 6, so from epoch 1's end
def test_resume_after_interruption_gives_the_same_step_count(make_recipe, tmp_path, checkpoint_every):
    recipe = make_recipe(training__max_epochs=3, training__checkpoint_every_n_steps=checkpoint_every)
    reference = train_run(recipe, tmp_path / "reference", progress=False)
    interrupted = train_run(recipe, tmp_path / "run", progress=False, callbacks=[StopAtStep(6)])  # epoch 1, batch 2 of 4
    assert interrupted.interrupted and interrupted.global_step == 6
    assert not (tmp_path / "run" / "metrics.json").exists()
    resumed = train_run(recipe, tmp_path / "run", progress=False, resume=True)  # from step 5 or from epoch 1's end (step 4)
    assert not resumed.interrupted
    assert resumed.global_step == reference.global_step == 12
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "run" / "learning_curve.csv"), pd.read_csv(tmp_path / "reference" / "learning_curve.csv"))
    expected, ended = (torch.load(tmp_path / run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"] for run in ("reference", "run"))
    assert all(torch.equal(expected[name], ended[name]) for name in expected)  # Ctrl-C and resume: bit-identical
    assert list(pd.read_csv(tmp_path / "run" / "learning_curve.csv")["epoch"]) == [1, 2, 3]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (tmp_path / "run" / "checkpoints" / metrics["checkpoint"]).is_file()
    assert (tmp_path / "run" / "logs" / "metrics-1.csv").is_file()  # the first attempt's log is kept


class StopInValidation(L.Callback):
    """Interrupt the first validation, after the epoch's last training step, as a kill would."""

    def on_validation_start(self, trainer, pl_module) -> None:
        raise KeyboardInterrupt


@pytest.mark.slow  # trains a tiny model
def test_a_run_interrupted_in_validation_resumes_with_that_validation(make_recipe, tmp_path):
    """The learning curve (and early stopping) of a resumed run has every epoch: none is trained without its validation."""
    recipe = make_recipe(training__max_epochs=3, training__checkpoint_every_n_steps=1)
    interrupted = train_run(recipe, tmp_path / "run", progress=False, callbacks=[StopInValidation()])  # after step 4 of 4
    assert interrupted.interrupted and not (tmp_path / "run" / "learning_curve.csv").exists()
    resumed = train_run(recipe, tmp_path / "run", progress=False, resume=True)
    curve = pd.read_csv(tmp_path / "run" / "learning_curve.csv")
    assert list(curve["epoch"]) == [1, 2, 3] and list(curve["step"]) == [4, 8, 12]
    assert resumed.global_step == 12 and resumed.metrics["training"]["epochs_trained"] == 3


@pytest.mark.slow  # trains a tiny model
def test_a_finished_run_folder_is_not_overwritten(make_recipe, tmp_path):
    train_run(make_recipe(training__max_epochs=1), tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match="--resume"):
        train_run(make_recipe(training__max_epochs=1), tmp_path / "run", progress=False)


@pytest.mark.slow  # trains a tiny model
def test_resume_refuses_a_different_config(make_recipe, tmp_path):
    train_run(make_recipe(training__max_epochs=1), tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match="different config"):
        train_run(make_recipe(training__max_epochs=1, loss__gamma=0.5), tmp_path / "run", progress=False, resume=True)


@pytest.mark.slow  # trains a tiny model
def test_feature_cache_hits_on_the_second_run(make_recipe, tiny_root, tmp_path):
    cache_dir = tmp_path / "shared-cache"
    recipe = make_recipe(cache_dir=cache_dir, training__max_epochs=1)
    train_run(recipe, tmp_path / "first", progress=False)
    cache = FeatureCache(cache_dir, FeatureConfig(**recipe.features))
    layout = DesedLayout(tiny_root)
    paths = sorted(layout.path("synth_train_audio").glob("*.wav")) + sorted(layout.path("validation_audio").glob("*.wav"))
    assert cache.fill(paths, progress=False) == 0  # nothing left to compute
    assert cache.misses == 0


@pytest.mark.slow  # trains a tiny model
def test_training_reduces_the_loss_on_a_repeated_batch(make_recipe, tmp_path):
    recipe = make_recipe(
        loss__name="bce",
        training__max_epochs=30,
        training__limit_train_batches=1,
        training__mixup_probability=0.0,
        training__learning_rate=0.01,
        training__rampup_epochs=0,
        training__max_consistency=0.0,
        training__validate_every_n_epochs=30,
        model__cnn_dropout=0.0,
        model__dropout_head=0.0,
    )
    train_run(recipe, tmp_path / "run", progress=False)
    log = pd.read_csv(tmp_path / "run" / "logs" / "metrics.csv")
    supervised = (log["train/strong_loss"] + log["train/weak_loss"]).dropna().to_numpy()
    assert len(supervised) >= 20
    assert supervised[-5:].mean() < 0.7 * supervised[:3].mean()


@pytest.mark.parametrize("name, weight_expected", [("bce", False), ("focal", False), ("cbfl", True), ("tbfl", True)])
def test_make_loss(name, weight_expected):
    from tbfl.training.loss import LossConfig

    loss = make_loss(LossConfig(name=name), [1.0] * 10)
    assert (loss.weight is not None) == weight_expected
    assert loss.gamma == (0.0 if name == "bce" else 2.0)


def test_weak_macro_f1():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.6]])
    targets = np.array([[1, 0], [0, 1], [0, 0]])
    # class 0: TP 1, FP 1 -> F1 2/3; class 1: TP 1, FP 1 -> 2/3
    assert weak_macro_f1(probabilities, targets) == pytest.approx(2 / 3)
    assert weak_macro_f1(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0


def test_plateau_settings_are_validated(make_recipe):
    with pytest.raises(ValueError, match="early_stopping_min_delta must be >= 0"):
        make_recipe(training__early_stopping_min_delta=-0.1)
    with pytest.raises(ValueError, match="early_stopping_patience must be >= 0"):
        make_recipe(training__early_stopping_patience=-1)
