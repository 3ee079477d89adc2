#pragma once
// What DeviceTransformer keeps between forward_loss and backward (internal to core/cuda).
#include "core/attention/attention.h"
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
  // Scratch of forward_loss and backward, allocated once per shape (cudaFree would synchronize
  // every step otherwise).
  DeviceBuffer<float> tmp_rows, attn_out, mlp_out;
  DeviceBuffer<float> dx, dxn, tmp, tmp2, dact, dup, drows, dheads, dq, dk, dv, delta, dkrows, dxvar;
  float scored = 0;
  bool ready = false;  // a forward_loss has run and backward may follow
};

// A layer whose attention variant has no kernel: its CPU implementation, its parameters (full
// names, values synced from the device before each use) and the host inputs of the last forward.
struct DeviceTransformer::HostAttention {
  std::unique_ptr<Attention> attn;
  std::vector<Param> params;
  AttnShape shape;
  int Hkv = 1;
  std::vector<float> q, k, v, x;  // k and v repeated to H heads, as variants expect
  AttnInputs inputs() const { return AttnInputs{shape, q.data(), k.data(), v.data(), x.data()}; }
};

}  // namespace attnlab::cuda
