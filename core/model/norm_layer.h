#pragma once
// LayerNorm or RMSNorm with its gain (and LayerNorm bias), gradients and cached statistics.
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/tensor/tensor.h"

namespace attnlab {

struct NormLayer {
  NormKind kind = NormKind::rmsnorm;
  float eps = 1e-5f;
  int C = 0;
  Tensor w, b, gw, gb;       // b/gb only for LayerNorm
  Tensor mean, rstd;         // per-row statistics of the last forward

  NormLayer() = default;
  NormLayer(NormKind kind_, int C_, float eps_);
  void forward(float* y, const float* x, int N);
  void backward(float* dx, const float* dy, const float* x, int N);  // dx overwritten
  void append_params(std::vector<Param>& ps, const std::string& prefix);
};

}  // namespace attnlab
