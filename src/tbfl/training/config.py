"""The training recipe as one validated config, read from YAML.

Sections mirror the YAML files in ``configs/``: ``data``, ``features``,
``model``, ``loss``, ``training``. Unknown keys are errors (a typo must not
silently fall back to a default). The output frame grid follows from the
``features`` and ``model`` sections (:func:`recipe_frame_grid`); a recipe
without a consistent grid is refused here, before any training starts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from tbfl.data.dataset import DatasetDescription, DatasetError, load_dataset
from tbfl.io import read_yaml
from tbfl.features import FeatureConfig
from tbfl.model import CRNNConfig
from tbfl.recipes import resolve_recipe
from tbfl.training.loss import LOSSES, LossConfig
from tbfl.weights import K_AUTO_RULES

if TYPE_CHECKING:
    from tbfl.data.labels import FrameGrid


@dataclass
class DataConfig:
    root: str = "data/small"  # dataset root, relative to the config's working directory
    layout: dict[str, str] = field(default_factory=dict)  # DesedLayout overrides (DESED 2021 only)
    # the dataset description (tbfl.data.dataset): inline mapping, a YAML file, or None for DESED 2021 in `layout`
    dataset: str | dict[str, Any] | None = None
    weak_validation_fraction: float = 0.1  # the baseline holds out 10% of weak clips for validation
    cache_dir: str = ".cache/features"
    num_workers: int = 0


@dataclass
class TrainingConfig:
    seed: int = 42
    max_epochs: int = 200  # the cap; with early_stopping_patience a run usually stops earlier
    early_stopping_patience: int = 0  # stop when `monitor` has not improved for this many validations; 0 = never
    early_stopping_min_delta: float = 0.0  # an improvement must exceed this (noise on a plateau is not progress)
    batch_sizes: tuple[int, int, int] = (12, 12, 24)  # strong, weak, unlabeled
    learning_rate: float = 1e-3
    rampup_epochs: float = 50.0  # consistency and learning-rate ramp-up length T
    max_consistency: float = 2.0
    ema_decay: float = 0.999
    mixup_probability: float = 0.5
    mixup_beta: float = 0.2
    validate_every_n_epochs: int = 1
    checkpoint_every_n_steps: int = 50  # "last.ckpt" for --resume
    monitor: str = "val/objective"  # best-checkpoint metric (maximised)
    eval_model: str = "teacher"  # teacher | student: which network writes the final scores
    median_filter_s: float = 0.45
    precision: str = "32-true"
    log_every_n_steps: int = 10
    limit_train_batches: int | float = 1.0
    # "min_size": an epoch ends with the shortest of the three sets, as the baseline's sampler
    # (about 118 steps on DESED); "max_size_cycle": one pass over the largest set, the others cycle.
    epoch_mode: str = "min_size"


@dataclass
class RecipeConfig:
    """The whole recipe; ``features`` and ``model`` are passed through to FeatureConfig / CRNNConfig."""

    data: DataConfig = field(default_factory=DataConfig)
    features: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    loss: LossConfig = field(default_factory=LossConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    @property
    def frame_grid(self) -> "FrameGrid":
        """The model's output frame grid (:func:`recipe_frame_grid`): 156 frames of 64 ms in both shipped recipes."""
        return recipe_frame_grid(self.features, self.model)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["training"]["batch_sizes"] = list(self.training.batch_sizes)
        if self.loss.k != "auto" and math.isinf(self.loss.k):
            data["loss"]["k"] = "inf"
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _build(cls, values: Mapping[str, Any], where: str):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(names)}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:  # a config class's own validation
        raise ValueError(f"{where}: {error}") from None


#: Every numeric setting and its valid range, checked before any training starts: (kind, low, high, text).
NUMERIC_RULES: dict[str, tuple[type, float, float, str]] = {
    "data.weak_validation_fraction": (float, 0.0, 1.0, "in [0, 1)"),
    "data.num_workers": (int, 0, math.inf, ">= 0"),
    "loss.gamma": (float, 0.0, math.inf, ">= 0"),
    "loss.k": (float, 0.0, math.inf, "> 0 (or 'inf' or 'auto')"),
    "loss.k_auto_target": (float, 0.0, math.inf, "> 0"),
    "loss.beta": (float, 0.0, 1.0, "in [0, 1)"),
    "loss.gamma_pos": (float, 0.0, math.inf, ">= 0"),
    "loss.gamma_neg": (float, 0.0, math.inf, ">= 0"),
    "loss.margin": (float, 0.0, 1.0, "in [0, 1)"),
    "loss.tau": (float, 0.0, math.inf, ">= 0"),
    "loss.boundary_weight": (float, 0.0, math.inf, ">= 0"),
    "loss.boundary_frames": (int, 1, math.inf, ">= 1"),
    "training.seed": (int, 0, math.inf, ">= 0"),
    "training.max_epochs": (int, 1, math.inf, ">= 1"),
    "training.early_stopping_patience": (int, 0, math.inf, ">= 0 (0 = off)"),
    "training.early_stopping_min_delta": (float, 0.0, math.inf, ">= 0"),
    "training.learning_rate": (float, 0.0, math.inf, "> 0"),
    "training.rampup_epochs": (float, 0.0, math.inf, ">= 0"),
    "training.max_consistency": (float, 0.0, math.inf, ">= 0"),
    "training.ema_decay": (float, 0.0, 1.0, "in [0, 1]"),
    "training.mixup_probability": (float, 0.0, 1.0, "in [0, 1]"),
    "training.mixup_beta": (float, 0.0, math.inf, "> 0"),
    "training.validate_every_n_epochs": (int, 1, math.inf, ">= 1"),
    "training.checkpoint_every_n_steps": (int, 1, math.inf, ">= 1"),
    "training.median_filter_s": (float, 0.0, math.inf, ">= 0"),
    "training.log_every_n_steps": (int, 1, math.inf, ">= 1"),
    "training.limit_train_batches": (float, 0.0, math.inf, "> 0 (a fraction <= 1 or a number of batches)"),
}
_OPEN_LOW = {"loss.k", "loss.k_auto_target", "training.learning_rate", "training.mixup_beta", "training.limit_train_batches"}
_OPEN_HIGH = {"data.weak_validation_fraction", "loss.beta", "loss.margin"}


def _check_number(value: Any, name: str, rule: tuple[type, float, float, str], where: str) -> None:
    kind, low, high, text = rule
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ValueError(f"{where}: {name} must be an integer {text}, got {value!r}")
    if not is_number or math.isnan(value):
        raise ValueError(f"{where}: {name} must be a number {text}, got {value!r}")
    too_low = value <= low if name in _OPEN_LOW else value < low
    too_high = value >= high if name in _OPEN_HIGH else value > high
    if too_low or too_high:
        raise ValueError(f"{where}: {name} must be {text}, got {value!r}")


def recipe_from_dict(values: Mapping[str, Any], where: str = "config") -> RecipeConfig:
    """Build and validate a RecipeConfig; ``where`` names the source in errors."""
    values = dict(values or {})
    unknown = sorted(set(values) - {"data", "features", "model", "loss", "training"})
    if unknown:
        raise ValueError(f"{where}: unknown section(s) {unknown}")
    training = dict(values.get("training") or {})
    if "batch_sizes" in training:
        training["batch_sizes"] = tuple(int(b) for b in training["batch_sizes"])
    loss = dict(values.get("loss") or {})
    if "k" in loss and loss["k"] != "auto":
        try:
            loss["k"] = float(loss["k"])  # accepts "inf"
        except (TypeError, ValueError):
            raise ValueError(f"{where}: loss.k must be a number > 0, 'inf' or 'auto', got {loss['k']!r}") from None
    config = RecipeConfig(
        data=_build(DataConfig, values.get("data") or {}, f"{where}: data"),
        features=dict(values.get("features") or {}),
        model=dict(values.get("model") or {}),
        loss=_build(LossConfig, loss, f"{where}: loss"),
        training=_build(TrainingConfig, training, f"{where}: training"),
    )
    if config.loss.name not in LOSSES:
        raise ValueError(f"{where}: loss.name must be one of {LOSSES}, got {config.loss.name!r}")
    if len(config.training.batch_sizes) != 3 or min(config.training.batch_sizes) < 1:
        raise ValueError(f"{where}: training.batch_sizes must be three positive sizes (strong, weak, unlabeled)")
    if config.loss.k_auto_rule not in K_AUTO_RULES:
        raise ValueError(f"{where}: loss.k_auto_rule must be one of {tuple(K_AUTO_RULES)}, got {config.loss.k_auto_rule!r}")
    if config.training.epoch_mode not in ("min_size", "max_size_cycle"):
        raise ValueError(f"{where}: training.epoch_mode must be 'min_size' or 'max_size_cycle'")
    for name, rule in NUMERIC_RULES.items():
        section, _, key = name.partition(".")
        if name == "loss.k" and config.loss.k == "auto":
            continue
        _check_number(getattr(getattr(config, section), key), name, rule, where)
    if config.training.eval_model not in ("teacher", "student"):
        raise ValueError(f"{where}: training.eval_model must be 'teacher' or 'student'")
    recipe_frame_grid(config.features, config.model, where)
    dataset = config.data.dataset
    if dataset is not None and not isinstance(dataset, (str, Mapping)):
        raise ValueError(f"{where}: data.dataset must be a description (mapping) or a YAML file path, got {dataset!r}")
    if isinstance(dataset, Mapping) or (dataset is not None and config.data.layout):
        recipe_dataset(config, where)  # an inline description is checked with the recipe; a file when it is used
    return config


def recipe_dataset(recipe: RecipeConfig, where: str = "recipe") -> DatasetDescription:
    """The recipe's dataset description: ``data.dataset`` (inline or a YAML file) under ``data.root``, or DESED 2021
    in ``data.layout`` when absent. DatasetError (a ValueError) names the file, or ``where`` and the key."""
    try:
        return load_dataset(recipe.data.root, recipe.data.dataset, recipe.data.layout)
    except DatasetError as error:
        if isinstance(recipe.data.dataset, str) and recipe.data.layout == {}:
            raise
        raise DatasetError(f"{where}: {error}") from None


def recipe_frame_grid(features: Mapping[str, Any], model: Mapping[str, Any], where: str = "recipe") -> "FrameGrid":
    """The output frame grid of the recipe's ``features`` and ``model`` sections (FeatureConfig / CRNNConfig fields).

    frame_hop_s = features.hop_length * time pooling / features.sample_rate_hz, n_frames = the clip's
    feature frames // time pooling, the time pooling being the product of the time kernels of
    ``model.pooling`` (the rule and its errors: :meth:`tbfl.features.FeatureConfig.frame_grid`).
    ValueError, prefixed with ``where``, for invalid sections, differing ``n_mels`` or no consistent grid.
    """
    feature_config = _build(FeatureConfig, features, f"{where}: features")
    model_config = _build(CRNNConfig, model, f"{where}: model")
    if feature_config.n_mels != model_config.n_mels:
        raise ValueError(f"{where}: features.n_mels={feature_config.n_mels} but model.n_mels={model_config.n_mels}: the model must take the features' mel bands")
    try:
        return feature_config.frame_grid(model_config.time_pooling)
    except ValueError as error:
        raise ValueError(
            f"{where}: features.hop_length={feature_config.hop_length} with model.pooling (time pooling {model_config.time_pooling}) "
            f"gives no frame grid: {error}"
        ) from None


def loss_from_dict(values: Mapping[str, Any], where: str = "loss settings") -> LossConfig:
    """A validated LossConfig from its fields (as a checkpoint's hyper-parameters hold them)."""
    return recipe_from_dict({"loss": dict(values)}, where=where).loss


def load_recipe(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RecipeConfig:
    """Read a YAML recipe (a path, or a shipped recipe's name such as ``"cpu-small"``) and apply dotted
    overrides, e.g. ``{"loss.name": "tbfl"}``."""
    path = resolve_recipe(path)
    values = read_yaml(path, "config file")
    if not isinstance(values, Mapping):
        raise ValueError(f"{path}: a recipe is a mapping of sections (data, features, model, loss, training), not a {type(values).__name__}")
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        known = {f.name for f in dataclasses.fields(_SECTIONS[section])} if section in _SECTIONS else None
        if not key or section not in (*_SECTIONS, "features", "model") or (known is not None and key not in known):
            hint = f"known keys of {section}: {sorted(known)}" if known is not None else f"sections: {sorted((*_SECTIONS, 'features', 'model'))}"
            raise ValueError(f"--set {dotted}={value!r}: unknown setting ({hint})")
        values[section] = dict(values.get(section) or {})  # a section left empty in YAML is None
        values[section][key] = value
    shown = " ".join(f"--set {dotted}={value!r}" for dotted, value in (overrides or {}).items())
    return recipe_from_dict(values, where=f"{path} with {shown}" if shown else str(path))


_SECTIONS = {"data": DataConfig, "loss": LossConfig, "training": TrainingConfig}
