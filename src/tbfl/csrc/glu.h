// The CRNN's gated unit, out = (x W^T + b) * sigmoid(x), in one pass over the pixels.
//
// Tensors are (pixels, C) row-major: a channels-last (B, C, T, F) feature map seen as (B*T*F, C).
// Autograd keeps only x: the backward recomputes sigmoid(x) and x W^T + b per pixel instead of
// storing them. C is a compile-time constant (8, 16, 32 or 64: the CRNNs' narrow blocks), so a
// pixel's C channels are C / lanes SIMD vectors and the loops over them stay in registers. Weight
// and bias gradients are summed per fixed chunk of pixels, then over the chunks in order, so the
// results do not depend on the number of threads.
#pragma once

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <vector>

#include "vec.h"

namespace tbfl {

constexpr int64_t kChunkPixels = 1024;

// n_values contiguous values as n_values / lanes vectors (a (C, C) matrix: C rows of C / lanes vectors).
template <typename T>
std::vector<Vec<T>> as_vectors(const T* values, int n_values) {
  std::vector<Vec<T>> vectors(n_values / kLanes<T>);
  for (size_t v = 0; v < vectors.size(); ++v) vectors[v] = load(values + v * kLanes<T>);
  return vectors;
}

template <typename T, int C>
std::vector<T> transposed(const T* m) {
  std::vector<T> out(C * C);
  for (int j = 0; j < C; ++j)
    for (int i = 0; i < C; ++i) out[i * C + j] = m[j * C + i];
  return out;
}

// linear = bias + x W^T for one pixel (weight_t: the rows of W^T).
template <typename T, int C>
inline void project(const T* x, const Vec<T>* weight_t, const Vec<T>* bias, Vec<T>* linear) {
  constexpr int K = C / kLanes<T>;
  for (int k = 0; k < K; ++k) linear[k] = bias[k];
  for (int i = 0; i < C; ++i)
    for (int k = 0; k < K; ++k) linear[k] += x[i] * weight_t[i * K + k];
}

template <typename T, int C>
void glu_forward_kernel(const T* x, const T* weight, const T* bias, T* out, int64_t n_pixels) {
  constexpr int K = C / kLanes<T>, L = kLanes<T>;
  const std::vector<Vec<T>> weight_t = as_vectors(transposed<T, C>(weight).data(), C * C), bias_v = as_vectors(bias, C);
  at::parallel_for(0, n_pixels, kChunkPixels, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      Vec<T> linear[K];
      project<T, C>(x + p * C, weight_t.data(), bias_v.data(), linear);
      for (int k = 0; k < K; ++k) store(out + p * C + k * L, linear[k] * sigmoid<T>(load(x + p * C + k * L)));
    }
  });
}

template <typename T, int C>
void glu_backward_kernel(const T* grad, const T* x, const T* weight, const T* bias, T* grad_x, T* grad_weight,
                     T* grad_bias, int64_t n_pixels) {
  constexpr int K = C / kLanes<T>, L = kLanes<T>, per_chunk = C * K + K;  // per chunk: grad_weight rows, then grad_bias
  const std::vector<Vec<T>> weight_rows = as_vectors(weight, C * C), weight_t = as_vectors(transposed<T, C>(weight).data(), C * C),
                            bias_v = as_vectors(bias, C);
  const int64_t n_chunks = (n_pixels + kChunkPixels - 1) / kChunkPixels;
  std::vector<Vec<T>> partial(n_chunks * per_chunk, Vec<T>{});
  at::parallel_for(0, n_chunks, 1, [&](int64_t chunk_begin, int64_t chunk_end) {
    for (int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
      Vec<T>* chunk_weight = partial.data() + chunk * per_chunk;
      Vec<T>* chunk_bias = chunk_weight + C * K;
      const int64_t end = std::min(n_pixels, (chunk + 1) * kChunkPixels);
      for (int64_t p = chunk * kChunkPixels; p < end; ++p) {
        const T *g = grad + p * C, *xp = x + p * C;
        Vec<T> linear[K], x_v[K], gx[K];
        T grad_linear[C];
        project<T, C>(xp, weight_t.data(), bias_v.data(), linear);
        for (int k = 0; k < K; ++k) {
          x_v[k] = load(xp + k * L);
          const Vec<T> g_k = load(g + k * L), s_k = sigmoid<T>(x_v[k]), gl_k = g_k * s_k;
          store(grad_linear + k * L, gl_k);
          gx[k] = g_k * linear[k] * s_k * (T(1) - s_k);  // through the sigmoid
          chunk_bias[k] += gl_k;
        }
        for (int j = 0; j < C; ++j) {  // through the Linear, and its weight
          const T gl = grad_linear[j];
          for (int k = 0; k < K; ++k) {
            gx[k] += gl * weight_rows[j * K + k];
            chunk_weight[j * K + k] += gl * x_v[k];
          }
        }
        for (int k = 0; k < K; ++k) store(grad_x + p * C + k * L, gx[k]);
      }
    }
  });
  for (int v = 0; v < per_chunk; ++v) {
    T* target = v < C * K ? grad_weight + v * L : grad_bias + (v - C * K) * L;
    for (int lane = 0; lane < L; ++lane) {
      double total = 0.0;
      for (int64_t chunk = 0; chunk < n_chunks; ++chunk) total += partial[chunk * per_chunk + v][lane];
      target[lane] = static_cast<T>(total);
    }
  }
}

// kernel.template operator()<C>() with C the channel count as a compile-time constant.
template <typename Kernel>
void dispatch_channels(int64_t n_channels, Kernel&& kernel) {
  switch (n_channels) {
    case 8: return kernel.template operator()<8>();
    case 16: return kernel.template operator()<16>();
    case 32: return kernel.template operator()<32>();
    case 64: return kernel.template operator()<64>();
    default: TORCH_CHECK(false, "fused GLU: ", n_channels, " channels; the kernel has 8, 16, 32 and 64");
  }
}

void check_glu(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  TORCH_CHECK(x.device().is_cpu() && x.is_contiguous(), "fused GLU: x must be a contiguous CPU tensor (..., C)");
  const int64_t n = x.size(-1);
  TORCH_CHECK(weight.sizes() == torch::IntArrayRef({n, n}) && weight.is_contiguous(), "fused GLU: weight must be (C, C), contiguous");
  TORCH_CHECK(bias.sizes() == torch::IntArrayRef({n}) && bias.is_contiguous(), "fused GLU: bias must be (C,)");
  TORCH_CHECK(weight.scalar_type() == x.scalar_type() && bias.scalar_type() == x.scalar_type(), "fused GLU: mixed dtypes");
}

torch::Tensor glu_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  check_glu(x, weight, bias);
  auto out = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_glu_forward", [&] {
    dispatch_channels(x.size(-1), [&]<int C>() {
      glu_forward_kernel<scalar_t, C>(x.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(),
                                  out.data_ptr<scalar_t>(), x.numel() / C);
    });
  });
  return out;
}

std::vector<torch::Tensor> glu_backward(const torch::Tensor& grad, const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias) {
  check_glu(x, weight, bias);
  TORCH_CHECK(grad.sizes() == x.sizes() && grad.is_contiguous() && grad.scalar_type() == x.scalar_type(), "fused GLU: grad must match x");
  auto grad_x = torch::empty_like(x), grad_weight = torch::empty_like(weight), grad_bias = torch::empty_like(bias);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_glu_backward", [&] {
    dispatch_channels(x.size(-1), [&]<int C>() {
      glu_backward_kernel<scalar_t, C>(grad.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
                                   bias.data_ptr<scalar_t>(), grad_x.data_ptr<scalar_t>(), grad_weight.data_ptr<scalar_t>(),
                                   grad_bias.data_ptr<scalar_t>(), x.numel() / C);
    });
  });
  return {grad_x, grad_weight, grad_bias};
}

}  // namespace tbfl
