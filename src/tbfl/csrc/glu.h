// The CRNN's gated unit, out = (x W^T + b) * sigmoid(x), and the average pooling after it, in one
// pass over the pixels.
//
// Tensors are (B, T, F, C) row-major: a channels-last (B, C, T, F) feature map.
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

// A feature map (B, T, F, C) and the average pooling (kt, kf) that follows the GLU: out is
// (B, T / kt, F / kf, C) (floored, as AvgPool2d; (1, 1) is no pooling).
struct PoolShape {
  int64_t batch, n_frames, n_bands, kt, kf;
  int64_t out_frames() const { return n_frames / kt; }
  int64_t out_bands() const { return n_bands / kf; }
  int64_t n_out() const { return batch * out_frames() * out_bands(); }
  int64_t n_in() const { return batch * n_frames * n_bands; }
};

template <typename T, int C>
void glu_forward_kernel(const PoolShape& shape, const T* x, const T* weight, const T* bias, T* out) {
  constexpr int K = C / kLanes<T>, L = kLanes<T>;
  const std::vector<Vec<T>> weight_t = as_vectors(transposed<T, C>(weight).data(), C * C), bias_v = as_vectors(bias, C);
  const T scale = T(1) / T(shape.kt * shape.kf);
  at::parallel_for(0, shape.n_out(), kChunkPixels, [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const int64_t clip = q / (shape.out_frames() * shape.out_bands()), frame = q / shape.out_bands() % shape.out_frames(),
                    band = q % shape.out_bands();
      Vec<T> total[K] = {};
      for (int64_t dt = 0; dt < shape.kt; ++dt)
        for (int64_t df = 0; df < shape.kf; ++df) {
          const T* xp = x + ((clip * shape.n_frames + frame * shape.kt + dt) * shape.n_bands + band * shape.kf + df) * C;
          Vec<T> linear[K];
          project<T, C>(xp, weight_t.data(), bias_v.data(), linear);
          for (int k = 0; k < K; ++k) total[k] += linear[k] * sigmoid<T>(load(xp + k * L));
        }
      for (int k = 0; k < K; ++k) store(out + q * C + k * L, total[k] * scale);
    }
  });
}

template <typename T, int C>
void glu_backward_kernel(const PoolShape& shape, const T* grad, const T* x, const T* weight, const T* bias, T* grad_x, T* grad_weight,
                         T* grad_bias) {
  constexpr int K = C / kLanes<T>, L = kLanes<T>, per_chunk = C * K + K;  // per chunk: grad_weight rows, then grad_bias
  const std::vector<Vec<T>> weight_rows = as_vectors(weight, C * C), weight_t = as_vectors(transposed<T, C>(weight).data(), C * C),
                            bias_v = as_vectors(bias, C);
  const T scale = T(1) / T(shape.kt * shape.kf);
  const int64_t n_pixels = shape.n_in(), n_chunks = (n_pixels + kChunkPixels - 1) / kChunkPixels;
  std::vector<Vec<T>> partial(n_chunks * per_chunk, Vec<T>{});
  at::parallel_for(0, n_chunks, 1, [&](int64_t chunk_begin, int64_t chunk_end) {
    for (int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
      Vec<T>* chunk_weight = partial.data() + chunk * per_chunk;
      Vec<T>* chunk_bias = chunk_weight + C * K;
      const int64_t end = std::min(n_pixels, (chunk + 1) * kChunkPixels);
      for (int64_t p = chunk * kChunkPixels; p < end; ++p) {
        const int64_t clip = p / (shape.n_frames * shape.n_bands), frame = p / shape.n_bands % shape.n_frames, band = p % shape.n_bands;
        const int64_t out_frame = frame / shape.kt, out_band = band / shape.kf;
        T* gxp = grad_x + p * C;
        if (out_frame >= shape.out_frames() || out_band >= shape.out_bands()) {  // dropped by the pooling's floor
          for (int k = 0; k < K; ++k) store(gxp + k * L, Vec<T>{});
          continue;
        }
        const T* g = grad + ((clip * shape.out_frames() + out_frame) * shape.out_bands() + out_band) * C;
        const T* xp = x + p * C;
        Vec<T> linear[K], x_v[K], gx[K];
        T grad_linear[C];
        project<T, C>(xp, weight_t.data(), bias_v.data(), linear);
        for (int k = 0; k < K; ++k) {
          x_v[k] = load(xp + k * L);
          const Vec<T> g_k = load(g + k * L) * scale, s_k = sigmoid<T>(x_v[k]), gl_k = g_k * s_k;
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
        for (int k = 0; k < K; ++k) store(gxp + k * L, gx[k]);
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

void check_glu(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, int64_t kt, int64_t kf) {
  TORCH_CHECK(x.device().is_cpu() && x.dim() == 4 && x.is_contiguous(), "fused GLU: x must be a contiguous CPU tensor (B, T, F, C)");
  const int64_t n = x.size(3);
  TORCH_CHECK(weight.sizes() == torch::IntArrayRef({n, n}) && weight.is_contiguous(), "fused GLU: weight must be (C, C), contiguous");
  TORCH_CHECK(bias.sizes() == torch::IntArrayRef({n}) && bias.is_contiguous(), "fused GLU: bias must be (C,)");
  TORCH_CHECK(weight.scalar_type() == x.scalar_type() && bias.scalar_type() == x.scalar_type(), "fused GLU: mixed dtypes");
  TORCH_CHECK(kt >= 1 && kf >= 1 && x.size(1) >= kt && x.size(2) >= kf, "fused GLU: pooling larger than the feature map");
}

// (x (B, T, F, C), weight, bias, kt, kf) -> GLU then average pooling (kt, kf): (B, T / kt, F / kf, C).
torch::Tensor glu_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, int64_t kt, int64_t kf) {
  check_glu(x, weight, bias, kt, kf);
  const PoolShape shape{x.size(0), x.size(1), x.size(2), kt, kf};
  auto out = x.new_empty({shape.batch, shape.out_frames(), shape.out_bands(), x.size(3)});
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_glu_forward", [&] {
    dispatch_channels(x.size(3), [&]<int C>() {
      glu_forward_kernel<scalar_t, C>(shape, x.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
    });
  });
  return out;
}

// (grad (B, T / kt, F / kf, C), x (B, T, F, C), weight, bias, kt, kf) -> [grad_x, grad_weight, grad_bias].
std::vector<torch::Tensor> glu_backward(const torch::Tensor& grad, const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                        int64_t kt, int64_t kf) {
  check_glu(x, weight, bias, kt, kf);
  const PoolShape shape{x.size(0), x.size(1), x.size(2), kt, kf};
  TORCH_CHECK(grad.sizes() == torch::IntArrayRef({shape.batch, shape.out_frames(), shape.out_bands(), x.size(3)}) && grad.is_contiguous() &&
                  grad.scalar_type() == x.scalar_type(),
              "fused GLU: grad must match the pooled output");
  auto grad_x = torch::empty_like(x), grad_weight = torch::empty_like(weight), grad_bias = torch::empty_like(bias);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_glu_backward", [&] {
    dispatch_channels(x.size(3), [&]<int C>() {
      glu_backward_kernel<scalar_t, C>(shape, grad.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
                                       bias.data_ptr<scalar_t>(), grad_x.data_ptr<scalar_t>(), grad_weight.data_ptr<scalar_t>(),
                                       grad_bias.data_ptr<scalar_t>());
    });
  });
  return {grad_x, grad_weight, grad_bias};
}

}  // namespace tbfl
