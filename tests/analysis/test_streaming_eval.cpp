// StreamingLLM evaluation: the window + sinks mask is swapped in per layer (with the variant's own
// parameters) and swapped back; rows see exactly the first S keys and the last W; a window that
// covers the sequence changes nothing; variants without masks are refused and leave the model as
// is.
#include <catch2/catch.hpp>
#include <cmath>

#include "analysis/streaming_eval.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

using namespace attnlab;

namespace {

ModelConfig tiny(const std::string& attention) {
  ModelConfig mc;
  mc.vocab_size = 16;
  mc.context = 24;
  mc.d_model = 16;
  mc.n_layers = 2;
  mc.n_heads = 2;
  mc.n_kv_heads = 2;
  mc.d_ff = 32;
  mc.attention = {attention};
  return mc;
}

std::vector<Batch> random_batches(int T) {
  Batch b;
  b.resize(3, T);
  Rng rng(5);
  for (size_t i = 0; i < b.tokens.size(); ++i) {
    b.tokens[i] = int32_t(rng.below(16));
    b.targets[i] = int32_t(rng.below(16));
  }
  return {b};
}

// Records which keys each row of layer 0, head 0 puts weight on.
struct Visible : ForwardObserver {
  std::vector<std::vector<int>> keys;
  void on_attention(const LayerAttentionView& v) override {
    if (v.layer != 0) return;
    keys.clear();
    v.attention->pattern(*v.inputs, 0, 0, [&](int t, const float* row) {
      keys.emplace_back();
      for (int j = 0; j <= t; ++j)
        if (row[j] != 0.0f) keys.back().push_back(j);
    });
  }
};

}  // namespace

TEST_CASE("streaming: the window spec is appended to the variant's", "[analysis][streaming]") {
  CHECK(streaming_spec("softmax", 16, 4) == "softmax+window(size=16,sinks=4)");
  CHECK(streaming_spec("softpick", 8, 0) == "softpick+window(size=8,sinks=0)");
}

TEST_CASE("streaming: rows see the first S keys and the last W, then the model is restored",
          "[analysis][streaming]") {
  Transformer m(tiny("softmax"));
  m.init_weights(1);
  const int T = 12, W = 4, S = 2;
  std::vector<Batch> batches = random_batches(T);
  const double dense = positional_loss(m, batches, W);
  Visible vis;
  m.add_observer(&vis);
  {
    ScopedStreamingWindow w(m, W, S);
    CHECK(m.attention(0).spec().find("window(size=4,sinks=2)") != std::string::npos);
    m.forward(batches[0].tokens.data(), 1, T);
    REQUIRE(vis.keys.size() == size_t(T));
    for (int t = 0; t < T; ++t) {
      std::vector<int> want;
      for (int j = 0; j <= t; ++j)
        if (j < S || j > t - W) want.push_back(j);
      CHECK(vis.keys[size_t(t)] == want);
    }
    CHECK(positional_loss(m, batches, W) != Approx(dense));
  }
  m.remove_observer(&vis);
  CHECK(m.attention(0).spec() == "softmax");
  CHECK(m.attention(1).spec() == "softmax");
  CHECK(positional_loss(m, batches, W) == Approx(dense).epsilon(1e-6));
}

TEST_CASE("streaming: a window covering the sequence changes nothing, parameters included",
          "[analysis][streaming]") {
  // sink_logit owns a per-head parameter; a nonzero value that failed to carry over would show.
  Transformer m(tiny("sink_logit"));
  m.init_weights(2);
  for (int l = 0; l < 2; ++l)
    for (Param& p : m.attention(l).params())
      for (int64_t i = 0; i < p.value->numel(); ++i) p.value->ptr()[i] = 2.0f + float(i);
  const int T = 10;
  std::vector<Batch> batches = random_batches(T);
  const double dense = positional_loss(m, batches, 0);
  {
    ScopedStreamingWindow w(m, T, 0);
    CHECK(positional_loss(m, batches, 0) == Approx(dense).epsilon(1e-6));
  }
  StreamingLosses cut = streaming_losses(m, batches, 3, 2);
  // Untrained attention is near uniform, so the differences are small, but they are there.
  CHECK(std::fabs(cut.window - cut.dense) > 1e-6);
  CHECK(std::fabs(cut.sinks - cut.window) > 1e-6);
}

TEST_CASE("streaming: variants without mask modifiers are refused, the model left intact",
          "[analysis][streaming]") {
  Transformer m(tiny("linear(chunk=4)"));
  m.init_weights(3);
  const std::string before = m.attention(0).spec();
  CHECK_THROWS_AS(ScopedStreamingWindow(m, 4, 1), Error);
  CHECK(m.attention(0).spec() == before);
  CHECK_THROWS_AS(ScopedStreamingWindow(m, 0, 1), Error);
}
