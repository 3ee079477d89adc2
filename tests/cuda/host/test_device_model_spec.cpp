// Which attention specs the fused kernels take (host-side parsing, no GPU needed); the GPU model
// runs the others through their CPU implementation.
#include <catch2/catch.hpp>

#include "core/cuda/gpu_spec.h"
#include "core/tensor/error.h"

using namespace attnlab;
using namespace attnlab::cuda;

TEST_CASE("GPU attention specs: softmax with an optional window and sinks", "[cuda][spec]") {
  CHECK(gpu_attention_spec("softmax").window == 0);
  const GpuAttentionSpec w = gpu_attention_spec("window(size=64,sinks=4)");
  CHECK(w.window == 64);
  CHECK(w.sinks == 4);
  const GpuAttentionSpec sw = gpu_attention_spec("softmax+window(size=8)");
  CHECK(sw.window == 8);
  CHECK(sw.sinks == 0);
  CHECK_THROWS_WITH(gpu_attention_spec("sigmoid(bias=-2)"), Catch::Contains("no fused CUDA kernel"));
  CHECK_THROWS_AS(gpu_attention_spec("window(size=0)"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("window(size=4,stride=2)"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("softmax(temperature=2)"), Error);
}
