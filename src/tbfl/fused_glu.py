"""The CRNN's gated unit for the CPU: one C++ pass per pixel instead of six PyTorch kernels.

The baseline's GLU is ``out = linear(x) * sigmoid(x)``, the Linear acting on the
channels of every (frame, band) pixel. With a few channels per pixel (8 to 64 in
the CRNNs here), PyTorch runs it as a skinny matrix product plus element-wise
kernels that each read and write the whole feature map: addmm (after copying
the bias into its output), sigmoid, a product, and in the backward two
products, sigmoid_backward, two more matrix products and a sum. At the first
blocks' 15 MB feature maps they are memory-bound, and they were about a third of
a cpu-small training step. ``csrc/fused_glu.cpp`` does the forward and the
backward each in one pass over channels-last pixels, with the channel count a
compile-time constant (see its header). The results equal the PyTorch GLU's up
to float rounding (``tests/test_fused_glu.py``).

The kernel is compiled on first use (about a minute; ``make install`` does it)
and cached by PyTorch (``~/.cache/torch_extensions``). Where it cannot be built
(no C++ compiler), the GLU runs the PyTorch operations and says so once.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import shutil
import sys
import warnings
from types import ModuleType

import torch
from torch import Tensor, nn

#: Channel counts the kernel is compiled for. At 128 channels (the full CRNN's last blocks, small
#: feature maps) PyTorch's matrix products are faster, so those stay on PyTorch.
FUSED_CHANNELS = frozenset({8, 16, 32, 64})


@functools.cache
def kernel() -> ModuleType | None:
    """The compiled extension (built and cached on first call), or None where it cannot be built."""
    from torch.utils import cpp_extension

    if shutil.which("ninja") is None:  # PyTorch builds with ninja; the `ninja` wheel ships one
        import ninja

        os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")
    source = importlib.resources.files("tbfl") / "csrc" / "fused_glu.cpp"
    try:
        with importlib.resources.as_file(source) as path:
            return cpp_extension.load(name="tbfl_fused_glu", sources=[str(path)], extra_cflags=["-O3", "-march=native"], verbose=False)
    except Exception as error:  # noqa: BLE001 - any build failure means: run the PyTorch operations
        warnings.warn(f"tbfl: the fused GLU kernel could not be built ({error}); the GLU runs PyTorch operations (slower)", stacklevel=2)
        return None


def build() -> None:
    """Compile the kernel now (``make install``), so that the first training step does not."""
    print("tbfl: fused GLU kernel " + ("ready" if kernel() is not None else "unavailable (see the warning)"), file=sys.stderr)


class _FusedGLU(torch.autograd.Function):
    """(B, T, F, C) pixels -> (B, T, F, C); autograd keeps x and sigmoid(x)."""

    @staticmethod
    def forward(ctx, pixels: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        sigmoid = torch.sigmoid(pixels)
        ctx.save_for_backward(pixels, sigmoid, weight, bias)
        return kernel().forward(pixels, sigmoid, weight, bias)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        pixels, sigmoid, weight, bias = ctx.saved_tensors
        return tuple(kernel().backward(grad_output.contiguous(), pixels, sigmoid, weight, bias))


def can_fuse(linear: nn.Linear, x: Tensor) -> bool:
    """Whether ``fused_glu`` runs the kernel for this input: channels-last float CPU tensors of a compiled width."""
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and linear.weight.dtype == x.dtype
        and x.shape[1] in FUSED_CHANNELS
        and x.is_contiguous(memory_format=torch.channels_last)
        and not torch.is_autocast_enabled("cpu")
        and kernel() is not None
    )


def fused_glu(linear: nn.Linear, x: Tensor) -> Tensor:
    """``linear(x) * sigmoid(x)`` over the channel axis; check ``can_fuse`` first.

    Args:
        linear: the GLU's (C, C) Linear (gradients flow into it).
        x: (B, C, T, F), channels-last.
    Returns:
        (B, C, T, F), channels-last.
    """
    return _FusedGLU.apply(x.permute(0, 2, 3, 1), linear.weight, linear.bias).permute(0, 3, 1, 2)
