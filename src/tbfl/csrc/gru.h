// The per-frame loops of a bidirectional GRU layer (tbfl/fused_gru.py computes everything that
// does not depend on the previous frame, before and after them).
//
// Layouts (contiguous; d is the direction, direction 1 runs over reversed time; gate order r, z, n):
//   projected (T, 2, B, 3H)  W_ih x + b_ih          w_hh (2, 3H, H), w_hh_t (2, H, 3H), b_hh (2, 3H)
//   states (T+1, 2, B, H)    h before frame t        recurrent (T, 2, B, 3H)  W_hh h + b_hh
//   gates_rz (T, 2, B, 2H)   sigmoid outputs r, z    candidates (T, 2, B, H)  n
// One frame is one call per (direction, clip) row: a matrix-vector product and the gate arithmetic
// in vectors, instead of PyTorch's four to six kernel launches per frame.
#pragma once

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "vec.h"

namespace tbfl {

template <typename T>
T scalar_sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

template <typename T>
void gru_forward_kernel(const T* projected, const T* w_hh_t, const T* b_hh, T* states, T* gates_rz, T* candidates, T* recurrent,
                        int64_t n_frames, int64_t n_rows, int64_t batch, int64_t hidden) {
  const int64_t H = hidden, G = 3 * hidden;
  for (int64_t t = 0; t < n_frames; ++t) {
    at::parallel_for(0, n_rows, 8, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t at_t = t * n_rows + row, direction = row / batch;
        const T* __restrict__ h = states + at_t * H;
        T* __restrict__ h_next = states + (at_t + n_rows) * H;
        const T* __restrict__ input = projected + at_t * G;
        T* __restrict__ rec = recurrent + at_t * G;
        T* __restrict__ rz = gates_rz + at_t * 2 * H;
        T* __restrict__ n = candidates + at_t * H;
        const T* __restrict__ bias = b_hh + direction * G;
        for (int64_t j = 0; j < G; ++j) rec[j] = bias[j];
        for (int64_t i = 0; i < H; ++i) {
          const T h_i = h[i];
          const T* __restrict__ w_row = w_hh_t + (direction * H + i) * G;
          for (int64_t j = 0; j < G; ++j) rec[j] += h_i * w_row[j];
        }
        for (int64_t j = 0; j < 2 * H; ++j) rz[j] = input[j] + rec[j];
        apply(rz, rz, 2 * H, [](Vec<T> v) { return sigmoid<T>(v); }, scalar_sigmoid<T>);
        for (int64_t j = 0; j < H; ++j) n[j] = input[2 * H + j] + rz[j] * rec[2 * H + j];
        apply(n, n, H, [](Vec<T> v) { return tanh(v); }, [](T v) { return std::tanh(v); });
        for (int64_t j = 0; j < H; ++j) h_next[j] = n[j] + rz[H + j] * (h[j] - n[j]);
      }
    });
  }
}

// grad_states (T, 2, B, H): d loss / d output per frame. to_candidate = (1 - z) tanh'(n),
// to_update = (h - n) sigmoid'(z), to_reset = (W_hn h + b_hn) sigmoid'(r), all (T, 2, B, H).
// Fills grad_candidate (T, 2, B, H) = d loss / d pre-tanh n and grad_recurrent (T, 2, B, 3H).
template <typename T>
void gru_backward_kernel(const T* grad_states, const T* to_candidate, const T* to_update, const T* to_reset, const T* gates_rz,
                         const T* w_hh, T* grad_candidate, T* grad_recurrent, int64_t n_frames, int64_t n_rows, int64_t batch,
                         int64_t hidden) {
  const int64_t H = hidden, G = 3 * hidden;
  std::vector<T> grad_h(n_rows * H, T(0)), grad_h_previous(n_rows * H);  // d loss / d h after / before frame t
  for (int64_t t = n_frames - 1; t >= 0; --t) {
    at::parallel_for(0, n_rows, 8, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t at_t = t * n_rows + row, direction = row / batch;
        T* __restrict__ g_h = grad_h.data() + row * H;
        T* __restrict__ g_previous = grad_h_previous.data() + row * H;
        const T *__restrict__ g_out = grad_states + at_t * H, *__restrict__ a_n = to_candidate + at_t * H,
                               *__restrict__ a_z = to_update + at_t * H, *__restrict__ a_r = to_reset + at_t * H,
                               *__restrict__ r = gates_rz + at_t * 2 * H, *__restrict__ z = r + H;
        T* __restrict__ g_n = grad_candidate + at_t * H;
        T* __restrict__ g_rec = grad_recurrent + at_t * G;
        for (int64_t i = 0; i < H; ++i) {
          g_h[i] += g_out[i];
          g_n[i] = g_h[i] * a_n[i];
          g_rec[H + i] = g_h[i] * a_z[i];
          g_rec[i] = g_n[i] * a_r[i];
          g_rec[2 * H + i] = g_n[i] * r[i];
          g_previous[i] = g_h[i] * z[i];
        }
        for (int64_t j = 0; j < G; ++j) {  // + W_hh^T g_rec
          const T g_j = g_rec[j];
          const T* __restrict__ w_row = w_hh + (direction * G + j) * H;
          for (int64_t i = 0; i < H; ++i) g_previous[i] += g_j * w_row[i];
        }
      }
    });
    std::swap(grad_h, grad_h_previous);
  }
}

void check_gru(const std::vector<torch::Tensor>& tensors) {
  for (const auto& tensor : tensors)
    TORCH_CHECK(tensor.device().is_cpu() && tensor.is_contiguous() && tensor.scalar_type() == tensors[0].scalar_type(),
                "fused GRU: tensors must be contiguous CPU tensors of one dtype");
}

// Fills states[1:], gates_rz, candidates and recurrent.
void gru_forward(const torch::Tensor& projected, const torch::Tensor& w_hh_t, const torch::Tensor& b_hh, torch::Tensor& states,
                 torch::Tensor& gates_rz, torch::Tensor& candidates, torch::Tensor& recurrent) {
  check_gru({projected, w_hh_t, b_hh, states, gates_rz, candidates, recurrent});
  const int64_t n_frames = candidates.size(0), batch = candidates.size(2), hidden = candidates.size(3);
  TORCH_CHECK(projected.sizes() == torch::IntArrayRef({n_frames, 2, batch, 3 * hidden}) && w_hh_t.sizes() == torch::IntArrayRef({2, hidden, 3 * hidden}) &&
                  b_hh.sizes() == torch::IntArrayRef({2, 3 * hidden}) && states.sizes() == torch::IntArrayRef({n_frames + 1, 2, batch, hidden}) &&
                  gates_rz.sizes() == torch::IntArrayRef({n_frames, 2, batch, 2 * hidden}) && recurrent.sizes() == projected.sizes(),
              "fused GRU: forward shapes do not match");
  AT_DISPATCH_FLOATING_TYPES(projected.scalar_type(), "fused_gru_forward", [&] {
    gru_forward_kernel<scalar_t>(projected.data_ptr<scalar_t>(), w_hh_t.data_ptr<scalar_t>(), b_hh.data_ptr<scalar_t>(), states.data_ptr<scalar_t>(),
                                 gates_rz.data_ptr<scalar_t>(), candidates.data_ptr<scalar_t>(), recurrent.data_ptr<scalar_t>(), n_frames, 2 * batch,
                                 batch, hidden);
  });
}

// Fills grad_candidate and grad_recurrent.
void gru_backward(const torch::Tensor& grad_states, const torch::Tensor& to_candidate, const torch::Tensor& to_update,
                  const torch::Tensor& to_reset, const torch::Tensor& gates_rz, const torch::Tensor& w_hh, torch::Tensor& grad_candidate,
                  torch::Tensor& grad_recurrent) {
  check_gru({grad_states, to_candidate, to_update, to_reset, gates_rz, w_hh, grad_candidate, grad_recurrent});
  const int64_t n_frames = grad_states.size(0), batch = grad_states.size(2), hidden = grad_states.size(3);
  for (const torch::Tensor& per_unit : {to_candidate, to_update, to_reset, static_cast<const torch::Tensor&>(grad_candidate)})
    TORCH_CHECK(per_unit.sizes() == grad_states.sizes(), "fused GRU: backward shapes do not match");
  TORCH_CHECK(gates_rz.sizes() == torch::IntArrayRef({n_frames, 2, batch, 2 * hidden}) && w_hh.sizes() == torch::IntArrayRef({2, 3 * hidden, hidden}) &&
                  grad_recurrent.sizes() == torch::IntArrayRef({n_frames, 2, batch, 3 * hidden}),
              "fused GRU: backward shapes do not match");
  AT_DISPATCH_FLOATING_TYPES(grad_states.scalar_type(), "fused_gru_backward", [&] {
    gru_backward_kernel<scalar_t>(grad_states.data_ptr<scalar_t>(), to_candidate.data_ptr<scalar_t>(), to_update.data_ptr<scalar_t>(),
                                  to_reset.data_ptr<scalar_t>(), gates_rz.data_ptr<scalar_t>(), w_hh.data_ptr<scalar_t>(),
                                  grad_candidate.data_ptr<scalar_t>(), grad_recurrent.data_ptr<scalar_t>(), n_frames, 2 * batch, batch, hidden);
  });
}

}  // namespace tbfl
