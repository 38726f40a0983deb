"""The output frame grid comes from the recipe: derived, checked against the model, refused when inconsistent, passed on."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES, FRAME_HOP_S, N_FRAMES
from tbfl.data.labels import FrameGrid
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.evaluation import read_scores
from tbfl.features import FeatureConfig, compute_features
from tbfl.inference import Detector
from tbfl.io import read_yaml
from tbfl.model import CRNN, CRNNConfig
from tbfl.training.config import load_recipe, recipe_from_dict
from tbfl.training.train import train_run

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: The shipped training recipes (the other YAML files there are sweep grids, with "runs").
RECIPES = sorted(path.name for path in CONFIGS.glob("*.yaml") if "runs" not in read_yaml(path, "config"))
#: The tiny recipe's model with time pooling 4 at hop 512: 313 feature frames // 4 = 78 frames of 128 ms.
POOLING_4 = [[2, 2], [2, 2], [1, 2], [1, 2], [1, 2], [1, 2]]


def model_output_frames(features: dict, model: dict) -> int:
    """Output frames of the recipe's CRNN on the features of one clip, as computed (STFT included)."""
    feature_config = FeatureConfig(**features)
    audio = np.random.default_rng(0).standard_normal(feature_config.n_samples).astype(np.float32)
    spectrogram = torch.from_numpy(compute_features(audio, feature_config))[None]
    with torch.no_grad():
        return CRNN(CRNNConfig(**model)).eval()(spectrogram).strong_probs.shape[-1]


def test_the_shipped_recipes_derive_the_baseline_grid():
    assert RECIPES == ["cpu-small.yaml", "desed2021.yaml"]
    baseline = FrameGrid(frame_hop_s=FRAME_HOP_S, n_frames=N_FRAMES)
    assert load_recipe(CONFIGS / "desed2021.yaml").frame_grid == baseline == FrameGrid(0.064, 156)  # 626 // 4, 256 * 4 / 16 kHz
    assert load_recipe(CONFIGS / "cpu-small.yaml").frame_grid == baseline  # 313 // 2, 512 * 2 / 16 kHz
    assert FeatureConfig().frame_grid(CRNNConfig().time_pooling) == baseline  # the constants are the defaults' grid


@pytest.mark.parametrize("name", RECIPES)
def test_the_model_of_each_shipped_recipe_outputs_the_derived_frames(name):
    recipe = load_recipe(CONFIGS / name)
    assert model_output_frames(recipe.features, recipe.model) == recipe.frame_grid.n_frames


@pytest.mark.parametrize(
    "hop_length, time_pooling, grid",
    [
        (256, 3, FrameGrid(0.048, 208)),  # 626 // 3: a pooling that does not divide the feature frames drops 2 of them
        (512, 1, FrameGrid(0.032, 313)),  # no pooling: the last frame starts at 9.984 s, inside the clip
        (255, 1, FrameGrid(255 / 16000, 628)),
        (300, 5, FrameGrid(0.09375, 106)),  # 534 // 5
    ],
)
def test_other_grids_are_derived_as_the_model_outputs(hop_length, time_pooling, grid):
    features = {"hop_length": hop_length}
    model = {"filters": [4, 4], "pooling": [[time_pooling, 2], [1, 2]], "rnn_hidden": 4}
    assert recipe_from_dict({"features": features, "model": model}).frame_grid == grid
    assert model_output_frames(features, model) == grid.n_frames


@pytest.mark.parametrize(
    "features, pooling, message",
    [
        ({}, [[4, 2]] * 5 + [[1, 2]] * 2,
         "features.hop_length=256 with model.pooling (time pooling 1024) gives no frame grid: "
         "time pooling 1024 exceeds the 626 feature frames of a 10 s clip at hop 256: no output frame"),
        ({}, [[1, 2]] * 7,
         "features.hop_length=256 with model.pooling (time pooling 1) gives no frame grid: the last of 626 output frames would start at 10 s"),
        ({"hop_length": 500}, [[1, 2]] * 7,
         "features.hop_length=500 with model.pooling (time pooling 1) gives no frame grid: the last of 321 output frames would start at 10 s"),
    ],
)
def test_a_recipe_without_a_consistent_grid_is_a_config_error(features, pooling, message):
    with pytest.raises(ValueError) as error:
        recipe_from_dict({"features": features, "model": {"pooling": pooling}}, where="recipe.yaml")
    assert str(error.value).startswith(f"recipe.yaml: {message}")


def test_features_and_model_sections_are_validated_with_the_recipe():
    with pytest.raises(ValueError, match=r"^config: features.n_mels=64 but model.n_mels=128: "):
        recipe_from_dict({"features": {"n_mels": 64}})
    with pytest.raises(ValueError, match=r"^config: features: unknown key\(s\) \['hop'\]"):
        recipe_from_dict({"features": {"hop": 256}})
    with pytest.raises(ValueError, match=r"^config: model: CRNNConfig.kernel_size must be odd"):
        recipe_from_dict({"model": {"kernel_size": 2}})


def test_the_grid_error_stops_tbfl_train_before_training(tiny_config, tmp_path, capsys):
    out = tmp_path / "run"
    pooling = "[[8,2],[8,2],[8,2],[1,2],[1,2],[1,2]]"
    assert main(["train", "--config", str(tiny_config), "--out", str(out), "--set", f"model.pooling={pooling}", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "features.hop_length=512 with model.pooling (time pooling 512) gives no frame grid" in err
    assert not out.exists()


@pytest.fixture(scope="module")
def coarse_run(make_recipe_module, tmp_path_factory):
    """One tiny epoch on a 78-frame grid of 128 ms (hop 512, time pooling 4)."""
    recipe = make_recipe_module(model__pooling=POOLING_4, training__max_epochs=1)
    return recipe, train_run(recipe, tmp_path_factory.mktemp("coarse") / "run", progress=False).run_dir


@pytest.mark.slow  # trains a tiny model
def test_training_on_another_grid_labels_scores_and_writes_on_it(coarse_run, tiny_root):
    recipe, run = coarse_run
    grid = recipe.frame_grid
    assert grid == FrameGrid(0.128, 78)
    score_files = sorted((run / "scores" / "validation").glob("*.tsv"))
    table = pd.read_csv(score_files[0], sep="\t")
    assert len(table) == 78
    np.testing.assert_allclose(table[["onset", "offset"]].to_numpy()[-1], [77 * 0.128, 78 * 0.128])
    with np.load(run / "validation_scores.npz") as saved:
        assert saved["probabilities"].shape[1:] == (10, 78) and float(saved["frame_hop_s"]) == pytest.approx(0.128)
    record = json.loads((run / "class_weights.json").read_text())
    assert record["frame_grid"] == {"frame_hop_s": 0.128, "n_frames": 78}
    stats = measure_stats(DesedLayout(tiny_root), n_frames=78, frame_hop_s=0.128)  # r_c counted on the run's grid
    np.testing.assert_allclose(record["statistics"]["frame_ratios"], stats.frame_ratios)
    assert {"psds1", "intersection_f1"} <= set(json.loads((run / "metrics.json").read_text()))


@pytest.mark.slow  # trains a tiny model
def test_the_detector_takes_the_checkpoints_grid(coarse_run, tmp_path):
    recipe, run = coarse_run
    detector = Detector.from_checkpoint(run)
    assert detector.frame_grid == recipe.frame_grid and detector.window_frames == 78
    audio = 0.1 * np.random.default_rng(2).standard_normal(16_000 * 25).astype(np.float32)
    assert detector.frame_scores(audio[:160_000]).shape == (10, 79)  # 78 frames of 128 ms and a partial one to 10 s
    assert detector.frame_scores(audio).shape == (10, 196)  # ceil(25 s / 128 ms)
    sf.write(tmp_path / "a.wav", audio, 16_000)
    scores_dir = tmp_path / "scores"
    assert main(["detect", str(run), str(tmp_path / "a.wav"), "--out", str(tmp_path / "a.tsv"), "--scores", str(scores_dir), "--no-progress"]) == 0
    scores, hop = read_scores(scores_dir, DESED_CLASSES)
    assert hop == pytest.approx(0.128) and scores["a"].shape == (10, 196)
