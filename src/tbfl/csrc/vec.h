// SIMD vectors of 32 bytes (8 floats or 4 doubles) by GCC's vector extensions (AVX2 with -march=native,
// SSE otherwise), with the transcendental functions the kernels need.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tbfl {

template <typename T> struct VecOf;
template <> struct VecOf<float> { typedef float type __attribute__((vector_size(32))); };
template <> struct VecOf<double> { typedef double type __attribute__((vector_size(32))); };
template <typename T> using Vec = typename VecOf<T>::type;
template <typename T> constexpr int kLanes = 32 / sizeof(T);

template <typename T> inline Vec<T> load(const T* p) { Vec<T> v; std::memcpy(&v, p, sizeof v); return v; }
template <typename T> inline void store(T* p, const Vec<T>& v) { std::memcpy(p, &v, sizeof v); }

// exp of 8 floats: Cephes' expf (range reduction by ln 2, degree-5 polynomial; relative error
// about 1e-7, as libm's), vectorised; |x| is clamped to 88.37, where float exp over- or underflows.
inline Vec<float> exp(Vec<float> x) {
  typedef int32_t Int __attribute__((vector_size(32)));
  x = x < 88.3762626647949f ? x : 88.3762626647949f;
  x = x > -88.3762626647949f ? x : -88.3762626647949f;
  Vec<float> n = x * 1.44269504088896341f + 0.5f;  // floor(x / ln 2 + 0.5)
  Int n_int = __builtin_convertvector(n, Int);  // truncation toward 0 ...
  n_int += __builtin_convertvector(n_int, Vec<float>) > n;  // ... -> floor (a true comparison is -1)
  n = __builtin_convertvector(n_int, Vec<float>);
  x = x - n * 0.693359375f + n * 2.12194440e-4f;
  const Vec<float> z = x * x;
  Vec<float> y = 1.9875691500e-4f * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * z + x + 1.0f;
  return y * (Vec<float>)((n_int + 127) << 23);  // * 2^n (the cast keeps the bits)
}

inline Vec<double> exp(Vec<double> x) {  // float64 (tests): libm per lane
  for (int lane = 0; lane < kLanes<double>; ++lane) x[lane] = std::exp(x[lane]);
  return x;
}

template <typename T> inline Vec<T> sigmoid(const Vec<T>& x) { return T(1) / (T(1) + exp(-x)); }

// tanh of 8 floats: Cephes' tanhf (an odd polynomial below |x| = 0.625, 1 - 2 / (exp(2|x|) + 1) above;
// relative error about 1e-7).
inline Vec<float> tanh(const Vec<float>& x) {
  const Vec<float> magnitude = x < 0.0f ? -x : x, z = x * x;
  Vec<float> small = -5.70498872745e-3f * z + 2.06390887954e-2f;
  small = small * z - 5.37397155531e-2f;
  small = small * z + 1.33314422036e-1f;
  small = small * z - 3.33332819422e-1f;
  small = small * z * x + x;
  Vec<float> large = 1.0f - 2.0f / (exp(magnitude + magnitude) + 1.0f);
  large = x < 0.0f ? -large : large;
  return magnitude < 0.625f ? small : large;
}

inline Vec<double> tanh(Vec<double> x) {  // float64 (tests): libm per lane
  for (int lane = 0; lane < kLanes<double>; ++lane) x[lane] = std::tanh(x[lane]);
  return x;
}

// out[i] = f(in[i]) for n values, by vectors and a libm tail.
template <typename T, typename VectorF, typename ScalarF>
inline void apply(const T* in, T* out, int64_t n, VectorF vector_f, ScalarF scalar_f) {
  int64_t i = 0;
  for (; i + kLanes<T> <= n; i += kLanes<T>) store(out + i, vector_f(load(in + i)));
  for (; i < n; ++i) out[i] = scalar_f(in[i]);
}


}  // namespace tbfl
