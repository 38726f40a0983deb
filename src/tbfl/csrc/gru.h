// A bidirectional GRU layer's frame loops, forward and backward (tbfl/fused_gru.py does the
// products over all frames before and after them).
//
// Per direction d and step t (direction 0 reads frame t, direction 1 frame T-1-t; gate order r, z, n):
//   r = sigmoid(P_r + W_hr h + b_hr), z = sigmoid(P_z + W_hz h + b_hz), n = tanh(P_n + r (W_hn h + b_hn)),
//   h' = (1 - z) n + z h,   with P = W_ih x + b_ih computed for all frames beforehand.
// Layouts (contiguous): projected (2, B, T, 3H) in frame order; output (B, T, 2H) in frame order;
// per step, in step order: states (2, T+1, B, H) (h before step t), recurrent (2, T, B, 3H)
// (W_hh h + b_hh), gates_rz (2, T, B, 2H), candidates (2, T, B, H). Backward: grad_output (B, T, 2H)
// -> grad_projected (2, B, T, 3H) in frame order and grad_recurrent (2, T, B, 3H) in step order,
// so that every weight gradient is one matrix product over all frames without a copy.
// One step is one matrix-vector product and the gate arithmetic per (direction, clip) row.
#pragma once

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <vector>

#include "vec.h"

namespace tbfl {

template <typename T>
T scalar_sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

struct GruShape {
  int64_t batch, n_frames, hidden;
  int64_t frame(int64_t direction, int64_t step) const { return direction == 0 ? step : n_frames - 1 - step; }
  int64_t step_row(int64_t direction, int64_t step, int64_t clip) const { return (direction * n_frames + step) * batch + clip; }
  int64_t frame_row(int64_t direction, int64_t clip, int64_t frame) const { return (direction * batch + clip) * n_frames + frame; }
  int64_t output_row(int64_t clip, int64_t frame) const { return clip * n_frames + frame; }
};

template <typename T>
void gru_forward_kernel(const GruShape& shape, const T* projected, const T* w_hh_t, const T* b_hh, T* output, T* states, T* recurrent,
                        T* gates_rz, T* candidates) {
  const int64_t H = shape.hidden, G = 3 * H, B = shape.batch;
  for (int64_t step = 0; step < shape.n_frames; ++step) {
    at::parallel_for(0, 2 * B, 8, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t direction = row / B, clip = row % B, frame = shape.frame(direction, step);
        const int64_t at = shape.step_row(direction, step, clip);
        const T* __restrict__ h = states + (at + direction * B) * H;  // states has T + 1 steps per direction
        T* __restrict__ h_next = states + (at + direction * B + B) * H;
        const T* __restrict__ input = projected + shape.frame_row(direction, clip, frame) * G;
        T* __restrict__ rec = recurrent + at * G;
        T* __restrict__ rz = gates_rz + at * 2 * H;
        T* __restrict__ n = candidates + at * H;
        T* __restrict__ out = output + shape.output_row(clip, frame) * 2 * H + direction * H;
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
        for (int64_t j = 0; j < H; ++j) out[j] = h_next[j] = n[j] + rz[H + j] * (h[j] - n[j]);
      }
    });
  }
}

template <typename T>
void gru_backward_kernel(const GruShape& shape, const T* grad_output, const T* states, const T* recurrent, const T* gates_rz,
                         const T* candidates, const T* w_hh, T* grad_projected, T* grad_recurrent) {
  const int64_t H = shape.hidden, G = 3 * H, B = shape.batch;
  std::vector<T> grad_h(2 * B * H, T(0)), grad_h_previous(2 * B * H);  // d loss / d h after / before the step
  for (int64_t step = shape.n_frames - 1; step >= 0; --step) {
    at::parallel_for(0, 2 * B, 8, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t direction = row / B, clip = row % B, frame = shape.frame(direction, step);
        const int64_t at = shape.step_row(direction, step, clip);
        T* __restrict__ g_h = grad_h.data() + row * H;
        T* __restrict__ g_previous = grad_h_previous.data() + row * H;
        const T* __restrict__ g_out = grad_output + shape.output_row(clip, frame) * 2 * H + direction * H;
        const T* __restrict__ h = states + (at + direction * B) * H;
        const T *__restrict__ rec_n = recurrent + at * G + 2 * H, *__restrict__ r = gates_rz + at * 2 * H, *__restrict__ z = r + H,
                               *__restrict__ n = candidates + at * H;
        T* __restrict__ g_rec = grad_recurrent + at * G;
        T* __restrict__ g_input = grad_projected + shape.frame_row(direction, clip, frame) * G;
        for (int64_t i = 0; i < H; ++i) {
          const T g = g_h[i] + g_out[i];
          const T g_n = g * (T(1) - z[i]) * (T(1) - n[i] * n[i]);  // d loss / d pre-tanh n
          g_rec[H + i] = g_input[H + i] = g * (h[i] - n[i]) * z[i] * (T(1) - z[i]);
          g_rec[i] = g_input[i] = g_n * rec_n[i] * r[i] * (T(1) - r[i]);
          g_rec[2 * H + i] = g_n * r[i];
          g_input[2 * H + i] = g_n;
          g_previous[i] = g * z[i];
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

void check_gru(std::initializer_list<torch::Tensor> tensors) {
  for (const auto& tensor : tensors)
    TORCH_CHECK(tensor.device().is_cpu() && tensor.is_contiguous() && tensor.scalar_type() == tensors.begin()->scalar_type(),
                "fused GRU: tensors must be contiguous CPU tensors of one dtype");
}

// (projected (2, B, T, 3H), w_hh_t (2, H, 3H), b_hh (2, 3H)) -> [output, states, recurrent, gates_rz, candidates].
std::vector<torch::Tensor> gru_forward(const torch::Tensor& projected, const torch::Tensor& w_hh_t, const torch::Tensor& b_hh) {
  check_gru({projected, w_hh_t, b_hh});
  const GruShape shape{projected.size(1), projected.size(2), w_hh_t.size(1)};
  const int64_t B = shape.batch, T = shape.n_frames, H = shape.hidden;
  TORCH_CHECK(projected.sizes() == torch::IntArrayRef({2, B, T, 3 * H}) && w_hh_t.sizes() == torch::IntArrayRef({2, H, 3 * H}) &&
                  b_hh.sizes() == torch::IntArrayRef({2, 3 * H}),
              "fused GRU: forward shapes do not match");
  auto output = projected.new_empty({B, T, 2 * H}), states = projected.new_zeros({2, T + 1, B, H}),
       recurrent = projected.new_empty({2, T, B, 3 * H}), gates_rz = projected.new_empty({2, T, B, 2 * H}),
       candidates = projected.new_empty({2, T, B, H});
  AT_DISPATCH_FLOATING_TYPES(projected.scalar_type(), "fused_gru_forward", [&] {
    gru_forward_kernel<scalar_t>(shape, projected.data_ptr<scalar_t>(), w_hh_t.data_ptr<scalar_t>(), b_hh.data_ptr<scalar_t>(),
                                 output.data_ptr<scalar_t>(), states.data_ptr<scalar_t>(), recurrent.data_ptr<scalar_t>(),
                                 gates_rz.data_ptr<scalar_t>(), candidates.data_ptr<scalar_t>());
  });
  return {output, states, recurrent, gates_rz, candidates};
}

// (grad_output (B, T, 2H), what the forward returned but the output, w_hh (2, 3H, H)) -> [grad_projected, grad_recurrent].
std::vector<torch::Tensor> gru_backward(const torch::Tensor& grad_output, const torch::Tensor& states, const torch::Tensor& recurrent,
                                        const torch::Tensor& gates_rz, const torch::Tensor& candidates, const torch::Tensor& w_hh) {
  check_gru({grad_output, states, recurrent, gates_rz, candidates, w_hh});
  const GruShape shape{grad_output.size(0), grad_output.size(1), candidates.size(3)};
  const int64_t B = shape.batch, T = shape.n_frames, H = shape.hidden;
  TORCH_CHECK(grad_output.sizes() == torch::IntArrayRef({B, T, 2 * H}) && states.sizes() == torch::IntArrayRef({2, T + 1, B, H}) &&
                  recurrent.sizes() == torch::IntArrayRef({2, T, B, 3 * H}) && gates_rz.sizes() == torch::IntArrayRef({2, T, B, 2 * H}) &&
                  candidates.sizes() == torch::IntArrayRef({2, T, B, H}) && w_hh.sizes() == torch::IntArrayRef({2, 3 * H, H}),
              "fused GRU: backward shapes do not match");
  auto grad_projected = grad_output.new_empty({2, B, T, 3 * H}), grad_recurrent = grad_output.new_empty({2, T, B, 3 * H});
  AT_DISPATCH_FLOATING_TYPES(grad_output.scalar_type(), "fused_gru_backward", [&] {
    gru_backward_kernel<scalar_t>(shape, grad_output.data_ptr<scalar_t>(), states.data_ptr<scalar_t>(), recurrent.data_ptr<scalar_t>(),
                                  gates_rz.data_ptr<scalar_t>(), candidates.data_ptr<scalar_t>(), w_hh.data_ptr<scalar_t>(),
                                  grad_projected.data_ptr<scalar_t>(), grad_recurrent.data_ptr<scalar_t>());
  });
  return {grad_projected, grad_recurrent};
}

}  // namespace tbfl
