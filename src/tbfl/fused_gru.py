"""A bidirectional GRU layer for CPU training: both directions in one loop, a hand-written backward.

PyTorch's CPU GRU records every time step of every direction as separate
autograd operations, so a training step of the CRNN (156 frames, 2 layers,
2 directions) builds and walks thousands of tiny autograd nodes. Here one
``autograd.Function`` runs a whole bidirectional layer: the input projections
of all frames in one matrix product, then one loop over time in which the two
directions advance together (batched matrix products over a direction axis),
and a backward loop of the same shape with the weight gradients summed in one
product at the end. The parameters are those of ``nn.GRU`` (gate order r, z, n),
so checkpoints do not change; the results equal ``nn.GRU``'s up to float rounding.

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


def _forward_loop(projected, w_hh_t, b_hh, states, gates_rz, candidates, recurrent) -> None:
    """The frame loop in PyTorch operations (where the C++ kernels are unavailable); layouts of ``csrc/gru.h``."""
    hidden = candidates.shape[-1]
    step_views = zip(
        states[:-1].unbind(0), states[1:].unbind(0), projected[..., : 2 * hidden].unbind(0), projected[..., 2 * hidden :].unbind(0),
        recurrent.unbind(0), recurrent[..., : 2 * hidden].unbind(0), recurrent[..., 2 * hidden :].unbind(0),
        gates_rz.unbind(0), gates_rz[..., :hidden].unbind(0), gates_rz[..., hidden:].unbind(0), candidates.unbind(0),
    )
    for h, h_next, input_rz, input_n, rec, rec_rz, rec_n, rz, reset, update, candidate in step_views:
        torch.baddbmm(b_hh[:, None, :], h, w_hh_t, out=rec)
        torch.add(input_rz, rec_rz, out=rz).sigmoid_()
        torch.addcmul(input_n, reset, rec_n, out=candidate).tanh_()
        torch.lerp(candidate, h, update, out=h_next)


def _backward_loop(grad_states, to_candidate, to_update, to_reset, gates_rz, w_hh, grad_candidate, grad_recurrent) -> None:
    """The backward frame loop in PyTorch operations; layouts of ``csrc/gru.h``."""
    hidden = grad_states.shape[-1]
    step_views = zip(
        grad_states.unbind(0), to_candidate.unbind(0), to_update.unbind(0), to_reset.unbind(0), gates_rz[..., :hidden].unbind(0),
        gates_rz[..., hidden:].unbind(0), grad_candidate.unbind(0), grad_recurrent.unbind(0), grad_recurrent[..., :hidden].unbind(0),
        grad_recurrent[..., hidden : 2 * hidden].unbind(0), grad_recurrent[..., 2 * hidden :].unbind(0),
    )
    grad_h = torch.zeros_like(grad_states[0])
    for grad_out, a_n, a_z, a_r, r, z, g_n, g_rec, g_rec_r, g_rec_z, g_rec_n in reversed(list(step_views)):
        grad_h = grad_h + grad_out
        torch.mul(grad_h, a_n, out=g_n)
        torch.mul(grad_h, a_z, out=g_rec_z)
        torch.mul(g_n, a_r, out=g_rec_r)
        torch.mul(g_n, r, out=g_rec_n)
        grad_h = torch.baddbmm(grad_h * z, g_rec, w_hh)


class _BiGRULayer(torch.autograd.Function):
    """One bidirectional GRU layer, zero initial state. x (B, T, I) -> output (B, T, 2H).

    The loops hold only the operations that depend on the previous frame; every
    factor that does not (gate derivatives, h - n, ...) is computed for all
    frames at once. The loops are C++ (``csrc/gru.h``: a frame is one matrix-vector product and the
    gate arithmetic per (direction, clip)), or PyTorch operations where the kernels are unavailable.
    """

    @staticmethod
    def forward(ctx, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, use_kernels: bool) -> Tensor:
        # w_ih (2, 3H, I), w_hh (2, 3H, H), b_ih / b_hh (2, 3H); direction 1 runs over reversed time.
        batch, n_frames, _ = x.shape
        hidden = w_hh.shape[2]
        projected = torch.matmul(x.unsqueeze(0), w_ih.transpose(1, 2).unsqueeze(1)) + b_ih[:, None, None, :]  # (2, B, T, 3H)
        projected = torch.stack([projected[0], projected[1].flip(1)]).permute(2, 0, 1, 3).contiguous()  # (T, 2, B, 3H)
        w_hh_t, b_hh = w_hh.transpose(1, 2).contiguous(), b_hh.contiguous()  # (2, H, 3H), (2, 3H)
        states = x.new_zeros(n_frames + 1, 2, batch, hidden)  # states[t] is h before frame t
        gates_rz = x.new_empty(n_frames, 2, batch, 2 * hidden)  # sigmoid outputs r, z
        candidates = x.new_empty(n_frames, 2, batch, hidden)  # n
        recurrent = x.new_empty(n_frames, 2, batch, 3 * hidden)  # W_hh h + b_hh
        loops = kernels() if use_kernels and x.dtype in (torch.float32, torch.float64) else None
        (loops.gru_forward if loops else _forward_loop)(projected, w_hh_t, b_hh, states, gates_rz, candidates, recurrent)
        ctx.loops = loops
        ctx.save_for_backward(x, w_ih, w_hh, states, gates_rz, candidates, recurrent)
        return torch.cat([states[1:, 0], states[1:, 1].flip(0)], dim=2).transpose(0, 1)  # (B, T, 2H)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        x, w_ih, w_hh, states, gates_rz, candidates, recurrent = ctx.saved_tensors
        n_frames, _, batch, hidden = candidates.shape
        update = gates_rz[..., hidden:]
        sigmoid_slope = gates_rz * (1 - gates_rz)
        # d n / d h_new, folded with tanh' and (1 - z); d a_z / d h_new; d a_r / d a_n
        to_candidate = (1 - update) * (1 - candidates * candidates)
        to_update = (states[:-1] - candidates) * sigmoid_slope[..., hidden:]
        to_reset = recurrent[..., 2 * hidden :] * sigmoid_slope[..., :hidden]
        grad_output = grad_output.transpose(0, 1)  # (T, B, 2H)
        grad_states = torch.stack([grad_output[:, :, :hidden], grad_output[:, :, hidden:].flip(0)], dim=1)  # (T, 2, B, H)
        grad_recurrent = x.new_empty(n_frames, 2, batch, 3 * hidden)  # d loss / d (W_hh h + b_hh)
        grad_candidate = x.new_empty(n_frames, 2, batch, hidden)  # d loss / d (pre-tanh n)
        (ctx.loops.gru_backward if ctx.loops else _backward_loop)(
            grad_states, to_candidate.contiguous(), to_update.contiguous(), to_reset.contiguous(), gates_rz, w_hh.contiguous(), grad_candidate, grad_recurrent
        )
        # weight gradients over all frames at once: (2, 3H, T*B) @ (2, T*B, H)
        flat_recurrent = grad_recurrent.permute(1, 3, 0, 2).reshape(2, 3 * hidden, n_frames * batch)
        grad_w_hh = torch.bmm(flat_recurrent, states[:-1].transpose(0, 1).reshape(2, n_frames * batch, hidden))
        grad_b_hh = grad_recurrent.sum(dim=(0, 2))
        grad_gates = torch.cat([grad_recurrent[..., : 2 * hidden], grad_candidate], dim=3)  # d loss / d (W_ih x + b_ih)
        grad_gates = torch.stack([grad_gates[:, 0], grad_gates[:, 1].flip(0)], dim=1)  # back to forward time
        gates_by_direction = grad_gates.permute(1, 2, 0, 3).reshape(2, batch * n_frames, 3 * hidden)  # (2, B*T, 3H)
        grad_w_ih = torch.matmul(gates_by_direction.transpose(1, 2), x.reshape(batch * n_frames, -1))  # (2, 3H, I)
        grad_b_ih = gates_by_direction.sum(dim=1)
        grad_x = torch.bmm(gates_by_direction, w_ih).sum(0).reshape(x.shape)
        return grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh, None


def fused_bigru(rnn: nn.GRU, x: Tensor, use_kernels: bool = True) -> Tensor:
    """Output of a bidirectional, batch-first ``nn.GRU`` without inter-layer dropout, zero initial state.

    Args:
        rnn: the GRU whose parameters are used (gradients flow into them).
        x: (B, T, input_size).
        use_kernels: run the frame loops in C++ where the kernels are built (False: PyTorch operations).
    Returns:
        (B, T, 2 * hidden_size), equal to ``rnn(x)[0]`` up to float rounding.
    """
    if not (rnn.bidirectional and rnn.batch_first and rnn.bias) or (rnn.dropout and rnn.training):
        raise ValueError("fused_bigru needs a bidirectional, batch-first GRU with biases and no active dropout")
    for layer in range(rnn.num_layers):
        names = [f"{kind}_l{layer}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") for suffix in ("", "_reverse")]
        params = [getattr(rnn, name) for name in names]
        x = _BiGRULayer.apply(x, *(torch.stack(params[i : i + 2]) for i in range(0, 8, 2)), use_kernels)
    return x
