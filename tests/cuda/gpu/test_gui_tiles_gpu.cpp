// The GUI's GPU map tiles (gui/gpu_tile_source.h, DeviceTransformer::attention_tile) against its
// CPU tiles (the variant's pattern() on the CPU forward's q/k/v) on stories260K: exact and pooled
// rectangles, edges, row bands, the streamed overview, and the CPU fallback for a layer whose
// attention has no fused kernel.
#include <catch2/catch.hpp>

#include <memory>

#include "core/io/load_checkpoint.h"
#include "core/model/transformer.h"
#include "core/tensor/rng.h"
#include "gpu_check.h"
#include "gui/attention_capture.h"
#include "gui/cpu_tile_source.h"
#include "gui/gpu_tile_source.h"
#include "gui/long_map_overview.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;
using attnlab::test::random_tokens;

namespace {

std::shared_ptr<const CapturedForward> stories_capture(int T) {
  LoadedModel lm = load_checkpoint(attnlab::test::shared_file("models/stories260K/stories260K.bin").string());
  auto model = std::make_shared<Transformer>(lm.config);
  model->load_weights(lm.weights);
  std::vector<int32_t> tokens = random_tokens(T, lm.config.vocab_size, 21);
  tokens[0] = 1;  // BOS, as the explorer prepends it
  return CapturedForward::run(model, tokens);
}

MapTileRequest rect(int layer, int head, int t0, int t1, int j0, int j1, int pr = 1, int pc = 1) {
  MapTileRequest r;
  r.layer = layer, r.head = head, r.t0 = t0, r.t1 = t1, r.j0 = j0, r.j1 = j1, r.pool_rows = pr, r.pool_cols = pc;
  return r;
}

}  // namespace

TEST_CASE("gui tiles: GPU tiles equal CPU tiles on stories260K (exact, pooled, edges, bands)", "[gpu][gui]") {
  const int T = 300;
  auto cap = stories_capture(T);
  CpuTileSource cpu(cap);
  GpuTileSource gpu(cap);
  GpuTileSource banded(cap, 1000);  // a few rows per device call: the band seams must not show
  for (int l = 0; l < cap->n_layers(); ++l) CHECK(gpu.device(l) == "GPU");
  const std::vector<MapTileRequest> rects = {
      rect(0, 0, 0, T, 0, T),            rect(1, 3, 0, 1, 0, 1),           rect(2, 7, T - 1, T, 0, T),
      rect(3, 5, 0, T, T - 1, T),        rect(4, 2, T - 9, T, T - 11, T),  rect(4, 6, 2, 9, 20, 31),
      rect(0, 1, 0, T, 0, T, 4, 4),      rect(3, 4, 5, T, 3, T - 2, 3, 7), rect(2, 0, 100, 160, 0, 64),
  };
  for (const MapTileRequest& r : rects) {
    INFO("L" << r.layer << "H" << r.head << " rows [" << r.t0 << "," << r.t1 << ") keys [" << r.j0 << "," << r.j1
             << ") pool " << r.pool_rows << "x" << r.pool_cols);
    const MapTile want = cpu.tile(r);
    cuda::test::expect_close(gpu.tile(r).w, want.w, "gpu tile");
    cuda::test::expect_close(banded.tile(r).w, want.w, "banded gpu tile");
  }
}

TEST_CASE("gui tiles: the GPU-streamed overview matches the CPU one", "[gpu][gui]") {
  const int T = 480;
  auto cap = stories_capture(T);
  CpuTileSource cpu(cap);
  GpuTileSource gpu(cap, 5000);
  const LongMapOverview a = build_long_overview(cpu, 3, 1, 100);
  const LongMapOverview b = build_long_overview(gpu, 3, 1, 100);
  CHECK(b.factor == a.factor);
  cuda::test::expect_close(b.pooled.w, a.pooled.w, "pooled overview");
  CHECK(std::abs(b.scale_top - a.scale_top) <= 1e-4 * std::max(1.0, a.scale_top));
  REQUIRE(b.alpha.size() == a.alpha.size());
  for (size_t i = 0; i < a.alpha.size(); ++i) {
    CHECK(std::abs(b.alpha[i] - a.alpha[i]) <= 1e-4);
    CHECK(std::abs(b.entropy[i] - a.entropy[i]) <= 1e-3);
  }
}

TEST_CASE("gui tiles: layers without a fused kernel come from the CPU; cancel; bad requests", "[gpu][gui]") {
  ModelConfig c;
  c.vocab_size = 64, c.context = 128, c.d_model = 32, c.n_layers = 3, c.n_heads = 4, c.n_kv_heads = 2, c.d_ff = 64;
  c.attention = {"softmax", "sigmoid", "window(size=20,sinks=2)"};
  auto model = std::make_shared<Transformer>(c);
  model->init_weights(3);
  auto cap = CapturedForward::run(model, random_tokens(100, 64, 4));
  CpuTileSource cpu(cap);
  GpuTileSource gpu(cap);
  CHECK(gpu.gpu_layer(0));
  CHECK_FALSE(gpu.gpu_layer(1));
  CHECK(gpu.gpu_layer(2));
  CHECK(gpu.device(1).rfind("CPU", 0) == 0);
  CHECK(gpu.tile(rect(1, 2, 0, 100, 0, 100)).w == cpu.tile(rect(1, 2, 0, 100, 0, 100)).w);  // same code path
  for (int l : {0, 2}) {
    const MapTileRequest r = rect(l, 3, 0, 100, 0, 100);
    cuda::test::expect_close(gpu.tile(r).w, cpu.tile(r).w, "layer " + std::to_string(l));
  }
  std::atomic<bool> cancel{true};
  CHECK_THROWS_AS(gpu.tile(rect(0, 0, 0, 100, 0, 100), &cancel), Cancelled);
  CHECK_THROWS_WITH(gpu.tile(rect(0, 0, 0, 101, 0, 5)), Catch::Contains("query rows"));
  CHECK_THROWS_WITH(gpu.tile(rect(0, 4, 0, 10, 0, 5)), Catch::Contains("no head L0H4"));
}
