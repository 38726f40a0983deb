"""The CRNN of the DCASE2021 Task 4 baseline (about 1.1 M parameters at the default sizes).

    features (B, n_mels, T_in)                  scaled log-mel, the baseline's input layout
      -> (B, 1, T_in, n_mels)
      -> 7 x [Conv2d 3x3 pad 1 -> BatchNorm2d -> GLU -> Dropout -> AvgPool2d]
      -> (B, 128, T_out, 1)                     T_out = T_in // 4 (626 -> 156)
      -> BiGRU, 2 layers, 128 units each way -> Dropout
      -> strong head Linear(256, C)             frame logits (B, C, T_out)
      -> attention head Linear(256, C)          softmax weights, pooled to clip probabilities (B, C)

Where this follows the baseline's code rather than its description:

- GLU: the baseline computes ``linear(x) * sigmoid(x)``, a per-position Linear
  over the channel axis that is gated by the sigmoid of the block's own input
  (not ``x * sigmoid(linear(x))``, which the baseline calls "context gating").
- BatchNorm2d(eps=1e-3, momentum=0.99): the baseline's values. In PyTorch's
  convention momentum 0.99 means the running statistics are 99% the latest
  batch (a Keras value carried over); kept, and configurable.
- The GRU has no dropout between its layers: the baseline's ``dropout_recurrent``
  is 0. Its one ``dropout`` (0.5) is used after every conv block and before
  the heads.
- Attention softmax: over time by default (``attention_softmax="time"``), the
  documented intent; ``"classes"`` reproduces the baseline's code, whose softmax
  runs over the class axis and is then clamped to >= 1e-7. In both cases the
  weights are normalised over time, so ``weak = sum_t(strong * attention)`` with
  ``sum_t(attention) == 1``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from tbfl.cpu_kernels import kernels
from tbfl.fused_glu import can_fuse, fused_glu
from tbfl.fused_gru import fused_bigru

#: The baseline's floor on class-axis attention weights (keeps sum_t > 0).
_CLASS_ATTENTION_FLOOR = 1e-7


@dataclass(frozen=True)
class CRNNConfig:
    """Sizes of the CRNN; the defaults are the DCASE2021 baseline's, except ``attention_softmax``.

    ``attention_softmax`` defaults to "time", the documented attention pooling;
    ``configs/desed2021.yaml`` sets "classes", the baseline's code. The default
    stays because checkpoints keep only the recipe's model settings: a new
    default would silently change how earlier runs' checkpoints pool.

    ``pooling`` is one (time, freq) AvgPool2d kernel per conv block. A smaller
    CPU model is e.g. ``filters=(16, 32, 32, 64, 64, 64, 64), rnn_hidden=64``.
    """

    n_classes: int = 10
    n_mels: int = 128
    filters: tuple[int, ...] = (16, 32, 64, 128, 128, 128, 128)
    pooling: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (1, 2), (1, 2), (1, 2), (1, 2), (1, 2))
    kernel_size: int = 3
    cnn_dropout: float = 0.5
    batch_norm_eps: float = 1e-3
    batch_norm_momentum: float = 0.99
    rnn_hidden: int = 128
    rnn_layers: int = 2
    rnn_dropout: float = 0.0
    attention: bool = True
    attention_softmax: str = "time"
    dropout_head: float = 0.5

    def __post_init__(self) -> None:
        # YAML gives lists; store tuples so the config stays hashable and comparable.
        try:
            filters = tuple(_whole_number(f) for f in self.filters)
        except (TypeError, ValueError):
            raise ValueError(f"CRNNConfig.filters must be a list of channel counts, e.g. [16, 32, 64], got {self.filters!r}") from None
        try:
            pooling = tuple(tuple(_whole_number(k) for k in pair) for pair in self.pooling)
        except (TypeError, ValueError):
            raise ValueError(
                f"CRNNConfig.pooling must be a list of (time, freq) kernel pairs, one per conv block, e.g. [[2, 2], [1, 2]], got {self.pooling!r}"
            ) from None
        object.__setattr__(self, "filters", filters)
        object.__setattr__(self, "pooling", pooling)
        self._validate()

    def _validate(self) -> None:
        for name in ("n_classes", "n_mels", "kernel_size", "rnn_hidden", "rnn_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"CRNNConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"CRNNConfig.kernel_size must be odd (same padding), got {self.kernel_size}")
        if not self.filters or min(self.filters) < 1:
            raise ValueError(f"CRNNConfig.filters must be positive channel counts, got {self.filters}")
        if len(self.pooling) != len(self.filters):
            raise ValueError(f"CRNNConfig.pooling has {len(self.pooling)} entries but filters has {len(self.filters)}: one (time, freq) pair per conv block")
        if any(len(p) != 2 or min(p) < 1 for p in self.pooling):
            raise ValueError(f"CRNNConfig.pooling must be (time, freq) pairs of positive ints, got {self.pooling}")
        for name in ("cnn_dropout", "rnn_dropout", "dropout_head"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"CRNNConfig.{name} must be in [0, 1), got {getattr(self, name)}")
        if self.attention_softmax not in ("time", "classes"):
            raise ValueError(f"CRNNConfig.attention_softmax must be 'time' or 'classes', got {self.attention_softmax!r}")
        if self.n_freq_out < 1:
            raise ValueError(f"CRNNConfig: frequency pooling {self.freq_pooling} leaves no band of n_mels={self.n_mels}")

    @property
    def time_pooling(self) -> int:
        """Total time pooling factor (4 for the baseline: 626 input frames -> 156)."""
        factor = 1
        for time_kernel, _ in self.pooling:
            factor *= time_kernel
        return factor

    @property
    def freq_pooling(self) -> int:
        """Total frequency pooling factor (128 for the baseline)."""
        factor = 1
        for _, freq_kernel in self.pooling:
            factor *= freq_kernel
        return factor

    @property
    def n_freq_out(self) -> int:
        """Frequency bands left after the CNN (1 for the baseline)."""
        n_bands = self.n_mels
        for _, freq_kernel in self.pooling:
            n_bands //= freq_kernel
        return n_bands


def _whole_number(value) -> int:
    """``value`` as an int; TypeError / ValueError unless it is a whole number (not a string or a bool)."""
    if isinstance(value, (str, bool)) or int(value) != value:
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


class CRNNOutput(NamedTuple):
    """What the CRNN returns; C classes, T output frames."""

    strong_logits: Tensor  # (B, C, T) frame logits
    strong_probs: Tensor  # (B, C, T) sigmoid(strong_logits)
    weak_probs: Tensor  # (B, C) attention-pooled frame probabilities, in [0, 1] (probabilities, not logits)
    attention: Tensor  # (B, C, T) pooling weights, sum over T is 1


class GLU(nn.Module):
    """The baseline's gated unit: ``linear(x) * sigmoid(x)``, the Linear acting on the channel axis.

    (B, C, T, F) -> (B, C, T, F).
    """

    def __init__(self, n_channels: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_channels, n_channels)
        self.fused = False  # the C++ kernel on channels-last CPU input (set by CRNN.cpu_fast_path)

    def forward(self, x: Tensor) -> Tensor:
        if self.fused and can_fuse(self.linear, x):
            return fused_glu(self.linear, x)
        value = self.linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return value * torch.sigmoid(x)


class ConvBlock(nn.Sequential):
    """Conv 3x3 (same padding) -> BatchNorm -> GLU -> Dropout -> AvgPool (time, freq); (B, C_in, T, F) -> (B, C_out, T', F').

    On the CPU fast path with the dropout inactive, the GLU and the pooling run as one kernel.
    """

    def __init__(self, n_in: int, n_out: int, pooling: tuple[int, int], config: CRNNConfig) -> None:
        super().__init__(
            nn.Conv2d(n_in, n_out, config.kernel_size, padding=config.kernel_size // 2),
            nn.BatchNorm2d(n_out, eps=config.batch_norm_eps, momentum=config.batch_norm_momentum),
            GLU(n_out),
            nn.Dropout(config.cnn_dropout),
            nn.AvgPool2d(pooling),
        )

    def forward(self, x: Tensor) -> Tensor:
        conv, norm, glu, dropout, pool = self
        x = norm(conv(x))
        if glu.fused and (dropout.p == 0 or not self.training) and can_fuse(glu.linear, x):
            return fused_glu(glu.linear, x, pool.kernel_size)
        return pool(dropout(glu(x)))


class CRNN(nn.Module):
    """Conv blocks + bidirectional GRU + strong and attention heads (see the module docstring).

    Args:
        config: sizes; the baseline's when omitted.
        **overrides: CRNNConfig fields replacing those of ``config``.
    """

    def __init__(self, config: CRNNConfig | None = None, **overrides) -> None:
        super().__init__()
        config = config or CRNNConfig()
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(CRNNConfig)})
        if unknown:
            raise ValueError(f"unknown CRNNConfig fields {unknown}; valid: {[f.name for f in dataclasses.fields(CRNNConfig)]}")
        self.config = config = dataclasses.replace(config, **overrides)

        channels = (1, *config.filters)
        self.cnn = nn.Sequential(*(ConvBlock(channels[i], channels[i + 1], config.pooling[i], config) for i in range(len(config.filters))))
        self.rnn = nn.GRU(
            config.filters[-1] * config.n_freq_out,
            config.rnn_hidden,
            num_layers=config.rnn_layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.rnn_dropout if config.rnn_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout_head)
        self.strong_head = nn.Linear(2 * config.rnn_hidden, config.n_classes)
        self.attention_head = nn.Linear(2 * config.rnn_hidden, config.n_classes) if config.attention else None
        self.cpu_fast_path = True

    @property
    def cpu_fast_path(self) -> bool:
        """On the CPU: the channels-last CNN, the fused GLU and the fused GRU (True); False gives the plain PyTorch path."""
        return self._cpu_fast_path

    @cpu_fast_path.setter
    def cpu_fast_path(self, enabled: bool) -> None:
        self._cpu_fast_path = enabled
        for module in self.modules():
            if isinstance(module, GLU):
                module.fused = enabled

    def forward(self, features: Tensor, class_mask: Tensor | None = None) -> CRNNOutput:
        """Frame logits and probabilities, attention and clip probabilities.

        Args:
            features: (B, n_mels, T_in) scaled log-mel (see ``tbfl.features.minmax_scale``).
            class_mask: optional (B, C), 1 for the classes a clip's set annotates; with ``attention_softmax="classes"``
                the others are left out of the attention softmax, so an annotated class's clip probability does not
                depend on them (DCASE 2024's masked pooling). The softmax over time needs no mask: each class pools alone.
        Returns:
            CRNNOutput with strong tensors (B, C, T_out), T_out = T_in // time_pooling, and weak_probs (B, C).
        """
        if features.ndim != 3 or features.shape[1] != self.config.n_mels:
            raise ValueError(f"CRNN expects features (batch, n_mels={self.config.n_mels}, frames), got shape {tuple(features.shape)}")
        x = features.transpose(1, 2).unsqueeze(1)  # (B, 1, T_in, n_mels)
        if self.cpu_fast_path and x.device.type == "cpu":  # oneDNN's native layout: no reorders around every convolution
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.cnn(x)  # (B, channels, T_out, F_out)
        batch, channels, n_frames, n_bands = x.shape
        x = x.permute(0, 2, 1, 3).reshape(batch, n_frames, channels * n_bands)
        x = self._recurrent(x)  # (B, T_out, 2 * hidden)
        x = self.dropout(x)

        strong_logits = self.strong_head(x)  # (B, T_out, C)
        strong_probs = torch.sigmoid(strong_logits)
        attention = self._attention(x, strong_logits, class_mask)
        weak_probs = (strong_probs * attention).sum(dim=1)
        return CRNNOutput(
            strong_logits=strong_logits.transpose(1, 2),
            strong_probs=strong_probs.transpose(1, 2),
            weak_probs=weak_probs,
            attention=attention.transpose(1, 2),
        )

    def _recurrent(self, x: Tensor) -> Tensor:
        """The BiGRU, (B, T, D) -> (B, T, 2 * hidden). On the CPU the fused layer with its C++ frame loops
        (same numbers, a fraction of nn.GRU's per-step autograd); GPUs, CPU autocast (mixed precision) and
        machines where the C++ kernels could not be built use nn.GRU."""
        cpu_float = x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and not torch.is_autocast_enabled("cpu")
        fused = self.cpu_fast_path and cpu_float and not (self.rnn.training and self.rnn.dropout) and kernels() is not None
        return fused_bigru(self.rnn, x) if fused else self.rnn(x)[0]

    def _attention(self, x: Tensor, strong_logits: Tensor, class_mask: Tensor | None = None) -> Tensor:
        """Pooling weights (B, T, C), each class's weights summing to 1 over time; ``class_mask`` (B, C) as in :meth:`forward`."""
        if self.attention_head is None:  # plain mean over time
            return torch.full_like(strong_logits, 1.0 / strong_logits.shape[1])
        scores = self.attention_head(x)  # (B, T, C)
        if self.config.attention_softmax == "time":
            return torch.softmax(scores, dim=1)
        if class_mask is not None:
            scores = scores.masked_fill(class_mask[:, None, :] < 0.5, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=2).clamp(min=_CLASS_ATTENTION_FLOOR)
        return weights / weights.sum(dim=1, keepdim=True)
