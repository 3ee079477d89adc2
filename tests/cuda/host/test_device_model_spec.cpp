// Which attention specs the GPU model path accepts (host-side parsing, no GPU needed).
#include <catch2/catch.hpp>

#include "core/cuda/device_model.h"
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
  CHECK_THROWS_WITH(gpu_attention_spec("sigmoid(bias=-2)"), Catch::Contains("--device cpu"));
  CHECK_THROWS_AS(gpu_attention_spec("window(size=0)"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("window(size=4,stride=2)"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("softmax(temperature=2)"), Error);
}
