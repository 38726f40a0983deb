"""The CRNN's gated unit for the CPU, with the pooling after it: one C++ pass instead of six PyTorch kernels.

The baseline's GLU is ``out = linear(x) * sigmoid(x)``, the Linear acting on the
channels of every (frame, band) pixel. With a few channels per pixel (8 to 64 in
the CRNNs here), PyTorch runs it as a skinny matrix product plus element-wise
kernels that each read and write the whole feature map: addmm (after copying
the bias into its output), sigmoid, a product, and in the backward two
products, sigmoid_backward, two more matrix products and a sum. At the first
blocks' 15 MB feature maps they are memory-bound, and they were about a third of
a cpu-small training step. ``csrc/glu.h`` does the forward and the
backward each in one pass over channels-last pixels, with the channel count a
compile-time constant (see its header); where the block's dropout is inactive
(``cnn_dropout: 0``, or evaluation) it also does the average pooling, so the
GLU's full-size output is never written and the pooling's backward never
zero-fills and scatters a full-size gradient. The results equal the PyTorch GLU's up
to float rounding (``tests/test_fused_glu.py``).

Where the kernels cannot be built, the GLU runs the PyTorch operations
(``tbfl.cpu_kernels``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tbfl.cpu_kernels import kernels

#: Channel counts the kernel is compiled for. At 128 channels (the full CRNN's last blocks, small
#: feature maps) PyTorch's matrix products are faster, so those stay on PyTorch.
FUSED_CHANNELS = frozenset({8, 16, 32, 64})


class _FusedGLU(torch.autograd.Function):
    """(B, T, F, C) pixels -> (B, T // kt, F // kf, C); autograd keeps only the input."""

    @staticmethod
    def forward(ctx, pixels: Tensor, weight: Tensor, bias: Tensor, pooling: tuple[int, int]) -> Tensor:
        ctx.pooling = pooling
        ctx.save_for_backward(pixels, weight, bias)
        return kernels().glu_forward(pixels, weight, bias, *pooling)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return *kernels().glu_backward(grad_output.contiguous(), *ctx.saved_tensors, *ctx.pooling), None


def can_fuse(linear: nn.Linear, x: Tensor) -> bool:
    """Whether ``fused_glu`` runs the kernel for this input: channels-last float CPU tensors of a compiled width."""
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and linear.weight.dtype == x.dtype
        and x.shape[1] in FUSED_CHANNELS
        and x.is_contiguous(memory_format=torch.channels_last)
        and not torch.is_autocast_enabled("cpu")
        and kernels() is not None
    )


def fused_glu(linear: nn.Linear, x: Tensor, pooling: tuple[int, int] = (1, 1)) -> Tensor:
    """``linear(x) * sigmoid(x)`` over the channel axis, then ``AvgPool2d(pooling)``; check ``can_fuse`` first.

    Args:
        linear: the GLU's (C, C) Linear (gradients flow into it).
        x: (B, C, T, F), channels-last.
        pooling: (time, freq) average pooling, stride = kernel, floored as ``nn.AvgPool2d``; (1, 1) is none.
    Returns:
        (B, C, T // pooling[0], F // pooling[1]), channels-last.
    """
    return _FusedGLU.apply(x.permute(0, 2, 3, 1), linear.weight, linear.bias, tuple(pooling)).permute(0, 3, 1, 2)
