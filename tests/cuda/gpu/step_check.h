#pragma once
// One training step of the same batch on the CPU Transformer and the GPU model: the losses must
// agree to 1e-5 and every parameter gradient within expect_close_scaled's tolerance.
#include <string>

#include "core/cuda/device_model.h"
#include "core/model/transformer.h"
#include "gpu_check.h"

namespace attnlab::cuda::test {

inline void expect_step_matches(Transformer& cpu, DeviceTransformer& gpu, const Batch& batch,
                                const std::string& label) {
  cpu.zero_grad();
  const float lc = cpu.forward_loss(batch);
  cpu.backward();
  gpu.zero_grad();
  const float lg = gpu.forward_loss(batch);
  gpu.backward();
  INFO(label);
  CHECK(lg == Approx(lc).epsilon(1e-5));
  const auto grads = gpu.grads();
  for (const Param& p : cpu.params()) {
    INFO(p.name);
    REQUIRE(grads.count(p.name));
    expect_close_scaled(grads.at(p.name).data, p.grad->data, label + " " + p.name);
  }
}

}  // namespace attnlab::cuda::test
