"""A bidirectional GRU layer for CPU training: both directions in one loop, a hand-written backward.

PyTorch's CPU GRU records every time step of every direction as separate
autograd operations, so a training step of the CRNN (156 frames, 2 layers,
2 directions) builds and walks thousands of tiny autograd nodes. Here one
``autograd.Function`` runs a whole bidirectional layer: the input projections
of all frames in one matrix product, then one C++ loop over time in which the
two directions advance together, and a backward loop of the same shape with
the weight gradients summed in one product at the end. The parameters are
those of ``nn.GRU`` (gate order r, z, n), so checkpoints do not change; the
results equal ``nn.GRU``'s up to float rounding. It needs tbfl's C++ kernels;
where they cannot be built, the CRNN uses ``nn.GRU``.

Per direction d and frame t (PyTorch's definition):
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tbfl.cpu_kernels import kernels


class _BiGRULayer(torch.autograd.Function):
    """One bidirectional GRU layer, zero initial state. x (B, T, I) -> output (B, T, 2H).

    The input projections of all frames are one matrix product, the frame loops are C++
    (``csrc/gru.h``: one matrix-vector product and the gate arithmetic per clip and direction and
    frame), and the weight gradients are one matrix product each over all frames.
    """

    @staticmethod
    def forward(ctx, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
        # w_ih (2, 3H, I), w_hh (2, 3H, H), b_ih / b_hh (2, 3H); direction 1 runs over reversed time.
        projected = torch.matmul(x.unsqueeze(0), w_ih.transpose(1, 2).unsqueeze(1)) + b_ih[:, None, None, :]  # (2, B, T, 3H)
        output, *saved = kernels().gru_forward(projected, w_hh.transpose(1, 2).contiguous(), b_hh.contiguous())
        ctx.save_for_backward(x, w_ih, w_hh, *saved)  # saved: states, recurrent, gates_rz, candidates
        return output

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        x, w_ih, w_hh, states, recurrent, gates_rz, candidates = ctx.saved_tensors
        batch, n_frames, _ = x.shape
        hidden = w_hh.shape[2]
        grad_projected, grad_recurrent = kernels().gru_backward(grad_output.contiguous(), states, recurrent, gates_rz, candidates, w_hh.contiguous())
        grad_w_hh = torch.bmm(grad_recurrent.reshape(2, -1, 3 * hidden).transpose(1, 2), states[:, :-1].reshape(2, -1, hidden))  # (2, 3H, H)
        grad_b_hh = grad_recurrent.sum(dim=(1, 2))
        by_direction = grad_projected.reshape(2, batch * n_frames, 3 * hidden)  # d loss / d (W_ih x + b_ih)
        grad_w_ih = torch.matmul(by_direction.transpose(1, 2), x.reshape(batch * n_frames, -1))  # (2, 3H, I)
        grad_b_ih = by_direction.sum(dim=1)
        grad_x = torch.bmm(by_direction, w_ih).sum(0).reshape(x.shape)
        return grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


def fused_bigru(rnn: nn.GRU, x: Tensor) -> Tensor:
    """Output of a bidirectional, batch-first ``nn.GRU`` without inter-layer dropout, zero initial state.

    Args:
        rnn: the GRU whose parameters are used (gradients flow into them).
        x: (B, T, input_size).
    Returns:
        (B, T, 2 * hidden_size), equal to ``rnn(x)[0]`` up to float rounding.
    """
    if not (rnn.bidirectional and rnn.batch_first and rnn.bias) or (rnn.dropout and rnn.training):
        raise ValueError("fused_bigru needs a bidirectional, batch-first GRU with biases and no active dropout")
    if kernels() is None:
        raise RuntimeError("fused_bigru needs tbfl's C++ CPU kernels, which could not be built (see tbfl.cpu_kernels)")
    for layer in range(rnn.num_layers):
        names = [f"{kind}_l{layer}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") for suffix in ("", "_reverse")]
        params = [getattr(rnn, name) for name in names]
        x = _BiGRULayer.apply(x, *(torch.stack(params[i : i + 2]) for i in range(0, 8, 2)))
    return x
