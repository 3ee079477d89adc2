#include "core/layers/activation.h"

#include <cmath>

namespace attnlab {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;
}  // namespace

void gelu_forward(float* y, const float* x, int64_t n, bool tanh_approx) {
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if (tanh_approx)
      y[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
    else
      y[i] = 0.5f * v * (1.0f + std::erf(v * kInvSqrt2));
  }
}

void gelu_backward(float* dx, const float* dy, const float* x, int64_t n, bool tanh_approx) {
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    float d;
    if (tanh_approx) {
      float u = kSqrt2OverPi * (v + 0.044715f * v * v * v);
      float th = std::tanh(u);
      float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v);
      d = 0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du;
    } else {
      d = 0.5f * (1.0f + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
    }
    dx[i] = dy[i] * d;
  }
}

void swiglu_forward(float* y, const float* gate, const float* up, int64_t n) {
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) {
    float g = gate[i];
    float sig = 1.0f / (1.0f + std::exp(-g));
    y[i] = g * sig * up[i];
  }
}

void swiglu_backward(float* dgate, float* dup, const float* dy, const float* gate,
                     const float* up, int64_t n) {
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) {
    float g = gate[i];
    float sig = 1.0f / (1.0f + std::exp(-g));
    float silu = g * sig;
    dup[i] = dy[i] * silu;
    dgate[i] = dy[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
  }
}

}  // namespace attnlab
