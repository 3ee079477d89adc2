#pragma once
// What DeviceTransformer keeps between forward_loss and backward (internal to core/cuda).
#include "core/cuda/device_model.h"

namespace attnlab::cuda {

struct DeviceTransformer::Activations {
  int B = 0, T = 0;
  struct Layer {
    DeviceBuffer<float> x_in, xn1, mean1, rstd1, q, k, v, heads, lse, rows, x_mid, xn2, mean2, rstd2, h1, h3, act;
  };
  std::vector<Layer> layers;
  DeviceBuffer<float> x_out, xnf, meanf, rstdf, logits, losses;
  DeviceBuffer<int> tokens, targets;
  float scored = 0;
  bool ready = false;  // a forward_loss has run and backward may follow
};

}  // namespace attnlab::cuda
