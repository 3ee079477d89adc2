#pragma once
// A linear layer that owns its weight [out, in], optional bias, and their gradients.
#include <string>
#include <vector>

#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"

namespace attnlab {

struct LinearLayer {
  int in = 0, out = 0;
  Tensor W, b, gW, gb;  // b and gb are empty without bias

  LinearLayer() = default;
  LinearLayer(int in_, int out_, bool bias);
  void init(Rng& rng, float std);
  void forward(float* y, const float* x, int N) const;
  // dx overwritten (skipped when null); gradients accumulate.
  void backward(float* dx, const float* dy, const float* x, int N);
  void append_params(std::vector<Param>& ps, const std::string& prefix);
};

}  // namespace attnlab
