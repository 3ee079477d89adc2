#pragma once
// Elementwise activations of the MLP, forward and backward.
#include <cstdint>

namespace attnlab {

// Exact GELU, x * Phi(x) (GPT-NeoX); tanh approximation (GPT-2's "gelu_new").
void gelu_forward(float* y, const float* x, int64_t n, bool tanh_approx);
// dx = dy * gelu'(x); overwrites dx.
void gelu_backward(float* dx, const float* dy, const float* x, int64_t n, bool tanh_approx);

// SwiGLU: y = silu(gate) * up.
void swiglu_forward(float* y, const float* gate, const float* up, int64_t n);
void swiglu_backward(float* dgate, float* dup, const float* dy, const float* gate,
                     const float* up, int64_t n);

}  // namespace attnlab
