// Per-head pattern assignment (analysis/sparse/pattern_assignment.h) on planted heads
// (tests/analysis/fixed_pattern.h): each planted shape gets its class, and replacing the head by
// the assigned family's selection costs no more output error than any other family at the same
// budget, and no more loss (KL from the dense next-token distribution of a model built on the
// planted heads): the class is causal.
#include <catch2/catch.hpp>
#include <cmath>

#include "analysis/sparse/pattern_assignment.h"
#include "analysis/sparse/recall_analyzer.h"
#include "analysis/sparse/sparse_replacement.h"
#include "core/model/transformer.h"
#include "core/tensor/rng.h"
#include "tests/analysis/fixed_pattern.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

constexpr int kT = 96, kDh = 8;

// Heads: 0 local (last 4 keys), 1 sinks + window (key 0 and the last 3), 2 vertical (columns 11,
// 23, 37, 50 and the diagonal), 3 retrieval-like (one random earlier key per row), 4 uniform.
std::vector<std::vector<float>> planted() {
  std::vector<std::vector<float>> maps(5, std::vector<float>(size_t(kT) * kT, 0.0f));
  Rng rng(9);
  const int cols[] = {11, 23, 37, 50};
  for (int t = 0; t < kT; ++t) {
    float* r0 = maps[0].data() + size_t(t) * kT;
    for (int j = std::max(0, t - 3); j <= t; ++j) r0[j] = 1.0f / float(t - std::max(0, t - 3) + 1);
    float* r1 = maps[1].data() + size_t(t) * kT;
    if (t < 3) {
      for (int j = 0; j <= t; ++j) r1[j] = 1.0f / float(t + 1);
    } else {
      r1[0] = 0.5f;
      for (int j = t - 2; j <= t; ++j) r1[j] = 0.5f / 3.0f;
    }
    float* r2 = maps[2].data() + size_t(t) * kT;
    int seen = 0;
    for (int c : cols) seen += c < t;
    r2[t] = seen ? 0.1f : 1.0f;
    for (int c : cols)
      if (c < t) r2[c] = 0.9f / float(seen);
    maps[3][size_t(t) * kT + size_t(rng.below(t + 1))] = 1.0f;
    for (int j = 0; j <= t; ++j) maps[4][size_t(t) * kT + j] = 1.0f / float(t + 1);
  }
  return maps;
}

}  // namespace

TEST_CASE("planted heads get their class, and the assigned family has the least output error",
          "[analysis][sparse][assignment]") {
  const int H = 5;
  test::FixedPattern attn(planted(), kT);
  std::vector<float> q = test::random_normal(size_t(H) * kT * kDh, 1),
                     k = test::random_normal(size_t(H) * kT * kDh, 2),
                     v = test::random_normal(size_t(H) * kT * kDh, 3);
  AttnInputs in;
  in.shape = {1, H, kT, kDh};
  in.q = q.data();
  in.k = k.data();
  in.v = v.data();
  SparsityAnalyzer an(1, H, assignment_patterns(), {parse_budget("16")});
  an.on_attention({0, &attn, &in});
  HeadTable t = an.table();
  assign_sparse_classes(t, "16");
  const std::vector<std::string> want = {"local", "sink+window", "vertical-slash", "retrieval-like",
                                         "dispersed"};
  for (int h = 0; h < H; ++h) {
    INFO("head " << h);
    CHECK(sparse_class_names().at(size_t(t.get("sparse_class", 0, h))) == want[size_t(h)]);
  }
  CHECK(t.meta("sparse_class_names") ==
        "local,sink+window,vertical-slash,retrieval-like,dispersed");
  // The fixed-shape families, in class order; each planted shape's own family has the least error.
  std::vector<std::string> err;
  for (size_t i = 1; i < an.labels().size(); ++i) err.push_back(an.labels()[i] + ".out_err");
  for (int h = 0; h < 3; ++h) {
    const double own = t.get(err[size_t(h)], 0, h);
    for (const std::string& e : err) CHECK(own <= t.get(e, 0, h) + 1e-9);
  }
  CHECK_THROWS_WITH(assign_sparse_classes(t, "32"), Catch::Contains("has no"));
}

TEST_CASE("planted heads: replacing a head by its assigned family costs the least loss", "[analysis][sparse][assignment]") {
  const int H = 5;
  ModelConfig mc;
  mc.vocab_size = 32;
  mc.context = kT;
  mc.d_model = H * kDh;
  mc.n_layers = 1;
  mc.n_heads = H;
  mc.n_kv_heads = H;
  mc.mlp = MlpKind::none;
  mc.d_ff = 0;
  Transformer model(mc);
  model.init_weights(5);
  model.swap_attention(0, std::make_unique<test::FixedPattern>(planted(), kT));
  std::vector<int32_t> tokens(kT);
  Rng rng(17);
  for (auto& x : tokens) x = int32_t(rng.below(mc.vocab_size));
  const Tensor& dense_logits = model.forward(tokens.data(), 1, kT);
  const std::vector<float> dense(dense_logits.ptr(), dense_logits.ptr() + dense_logits.numel());

  // Mean over positions of KL(dense || sparse) of the next-token distributions.
  auto kl_with = [&](const std::string& spec, int head) {
    const Budget budget = parse_budget("16");
    SparseReplacement rep(spec, &budget, SparsePhase::prefill, kT, {HeadRef{0, head}}, 1, H);
    model.add_observer(&rep);
    const Tensor& lg = model.forward(tokens.data(), 1, kT);
    model.remove_observer(&rep);
    double kl = 0;
    const int V = mc.vocab_size;
    for (int t = 0; t < kT; ++t) {
      const float* p = dense.data() + size_t(t) * V;
      const float* q = lg.ptr() + int64_t(t) * V;
      const double mp = *std::max_element(p, p + V), mq = *std::max_element(q, q + V);
      double zp = 0, zq = 0;
      for (int i = 0; i < V; ++i) zp += std::exp(p[i] - mp), zq += std::exp(q[i] - mq);
      for (int i = 0; i < V; ++i) {
        const double lp = p[i] - mp - std::log(zp), lq = q[i] - mq - std::log(zq);
        kl += std::exp(lp) * (lp - lq);
      }
    }
    return kl / kT;
  };
  // The fixed-shape families in class order (local, sink+window, vertical-slash); the planted
  // heads 0, 1, 2 have those shapes.
  const std::vector<std::string> specs = assignment_patterns();
  const std::vector<std::string> families(specs.begin() + 1, specs.end());
  REQUIRE(families.size() == 3);
  for (int h = 0; h < 3; ++h) {
    const double own = kl_with(families[size_t(h)], h);
    CHECK(own >= 0);
    INFO("head " << h << " own family " << families[size_t(h)] << ": KL " << own);
    double worst = 0;
    for (const std::string& f : families) {
      const double other = kl_with(f, h);
      INFO(f << ": KL " << other);
      CHECK(own <= other + 1e-9);
      worst = std::max(worst, other);
    }
    // At 16 keys every family holds a 4-key local head; the sink and vertical heads are lost by
    // some family (the plain window misses the sink, both windows miss the columns).
    // Measured: the assigned family 3e-17 (rounding), the worst 1.4e-4 (sink head) and 3.9e-4
    // (vertical head) with this small random model's logits.
    if (h > 0) CHECK(worst > 1e-6);
  }
  // A full budget is dense: no loss at all.
  const Budget all = parse_budget("100%");
  SparseReplacement full("topk(k=1)", &all, SparsePhase::prefill, kT, {HeadRef{0, 3}}, 1, H);
  model.add_observer(&full);
  const Tensor& lg = model.forward(tokens.data(), 1, kT);
  model.remove_observer(&full);
  for (int64_t i = 0; i < lg.numel(); ++i) REQUIRE(lg.ptr()[i] == dense[size_t(i)]);
}
