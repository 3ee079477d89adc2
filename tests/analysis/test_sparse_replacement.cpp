// Sparse replacement (analysis/sparse/sparse_replacement.h, sparse_eval.h): a full budget is
// exactly dense; a sink+window replacement equals the model run with the window mask modifier
// (an independent path: the variant's own masked forward); the decode and kv schedules computed
// in one teacher-forced pass equal a token-by-token decode that recomputes each prefix (nothing
// after row t is read) and a real KV-cached decode with the same selector; eval's paired
// differences vanish at full budget.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

#include "analysis/sparse/decode_hook.h"
#include "analysis/sparse/sparse_eval.h"
#include "analysis/sparse/sparse_replacement.h"
#include "analysis/streaming_eval.h"
#include "core/model/kv_cache.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/task_registry.h"

using namespace attnlab;

namespace {

std::unique_ptr<Transformer> model(int context = 48) {
  ModelConfig mc;
  mc.vocab_size = 16;
  mc.context = context;
  mc.d_model = 32;
  mc.n_layers = 2;
  mc.n_heads = 4;
  mc.n_kv_heads = 4;
  mc.d_ff = 48;
  mc.attention = {"softmax"};
  auto m = std::make_unique<Transformer>(mc);
  m->init_weights(3);
  // Sharper attention than the 0.02 init, so that sparse patterns drop real mass.
  std::map<std::string, Tensor> w = m->weights();
  for (auto& [name, t] : w)
    if (name.find("attn.wq") != std::string::npos || name.find("attn.wk") != std::string::npos)
      for (float& x : t.data) x *= 10.0f;
  m->load_weights(w);
  return m;
}

std::vector<int32_t> tokens(int B, int T, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> x(size_t(B) * T);
  for (int32_t& v : x) v = int32_t(rng.below(16));
  return x;
}

std::vector<float> logits_with(Transformer& m, ForwardObserver* obs, const std::vector<int32_t>& x,
                               int B, int T) {
  if (obs) m.add_observer(obs);
  const Tensor& l = m.forward(x.data(), B, T);
  std::vector<float> out = l.data;
  if (obs) m.remove_observer(obs);
  return out;
}

double max_abs_diff(const float* a, const float* b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

}  // namespace

TEST_CASE("sparse replacement at full budget is exactly dense", "[analysis][sparse][replace]") {
  auto m = model();
  const int B = 2, T = 40;
  const auto x = tokens(B, T, 1);
  const std::vector<float> dense = logits_with(*m, nullptr, x, B, T);
  const Budget full = parse_budget("1.0");
  for (const std::string spec : {"topk", "block_topk(block=8)", "window(sinks=2)", "quest(page=4)"})
    for (const std::string phase : {"prefill", "decode", "kv"}) {
      INFO(spec << " " << phase);
      SparseReplacement rep(spec, &full, parse_sparse_phase(phase), 20,
                            parse_head_selection("all", 2, 4), 2, 4);
      const std::vector<float> sparse = logits_with(*m, &rep, x, B, T);
      REQUIRE(sparse == dense);  // bit for bit
      CHECK(rep.density() == 1.0);
      CHECK(rep.sparse_rows() > 0);
    }
}

TEST_CASE("sink+window replacement of every row equals the window mask modifier",
          "[analysis][sparse][replace]") {
  auto m = model();
  const int B = 2, T = 40;
  const auto x = tokens(B, T, 2);
  std::vector<float> masked;
  {
    ScopedStreamingWindow w(*m, 6, 2);
    masked = logits_with(*m, nullptr, x, B, T);
  }
  // prefill = T: every row is a prefill row.
  SparseReplacement rep("window(size=6,sinks=2)", nullptr, SparsePhase::prefill, T,
                        parse_head_selection("all", 2, 4), 2, 4);
  const std::vector<float> sparse = logits_with(*m, &rep, x, B, T);
  CHECK(max_abs_diff(sparse.data(), masked.data(), masked.size()) < 1e-5);
  CHECK(rep.density() < 0.5);
}

TEST_CASE("decode and kv schedules in one pass equal a token-by-token decode",
          "[analysis][sparse][replace]") {
  auto m = model();
  const int T = 36, Tp = 20, V = 16;
  const auto x = tokens(1, T, 3);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"topk(k=5)", "decode"},
      {"block_topk(k=2,block=4,score=mean)", "decode"},
      {"block_topk(k=2,block=4,score=oracle)", "decode"},
      {"vertical_slash(v=3,s=3,last_q=6,force_v=1,force_s=1)", "decode"},
      {"quest(k=8,page=4)", "decode"},
      {"window(size=4,sinks=1)", "kv"},
      {"topk(k=6)", "kv"},
  };
  for (const auto& [spec, phase] : cases) {
    INFO(spec << " " << phase);
    SparseReplacement rep(spec, nullptr, parse_sparse_phase(phase), Tp,
                          parse_head_selection("L0H1,L1H0,L1H2", 2, 4), 2, 4);
    const std::vector<float> full = logits_with(*m, &rep, x, 1, T);
    const std::vector<float> dense = logits_with(*m, nullptr, x, 1, T);
    CHECK(max_abs_diff(full.data() + Tp * V, dense.data() + Tp * V, size_t(T - Tp) * V) >
          1e-4);  // it bites
    CHECK(max_abs_diff(full.data(), dense.data(), size_t(Tp) * V) ==
          0.0);  // prefill rows untouched
    // Each decode step: the prefix through t, run on its own; its last row is step t's logits.
    for (int t = Tp; t < T; ++t) {
      std::vector<int32_t> prefix(x.begin(), x.begin() + t + 1);
      const std::vector<float> step = logits_with(*m, &rep, prefix, 1, t + 1);
      INFO("step " << t);
      CHECK(max_abs_diff(step.data() + int64_t(t) * V, full.data() + int64_t(t) * V, size_t(V)) <
            1e-5);
    }
  }
}

TEST_CASE("sparse eval: paired differences vanish at full budget and show at a small one",
          "[analysis][sparse][replace]") {
  auto m = model(64);
  auto task = make_task("needle(len=64,vocab=16,batch=4,seed=1)");
  SparseEvalOptions opt;
  opt.pattern = "topk";
  opt.budget = "1.0";
  opt.phase = "decode";
  opt.batches = 2;
  SparseEvalResult full = sparse_eval(*m, *task, opt);
  CHECK(full.dce == 0.0);
  CHECK(full.kl == 0.0);
  CHECK(full.dacc == 0.0);
  CHECK(full.density == 1.0);
  CHECK(full.sequences == 8);
  CHECK(full.prefill > 40);  // the answer comes last
  opt.budget = "2";
  opt.phase = "prefill";
  SparseEvalResult small = sparse_eval(*m, *task, opt);
  CHECK(small.kl > 0.0);
  CHECK(small.density < 0.2);
}

TEST_CASE("sparse replacement: bad input is a clear error", "[analysis][sparse][replace][errors]") {
  CHECK_THROWS_WITH(parse_sparse_phase("both"), Catch::Contains("prefill, decode or kv"));
  CHECK_THROWS_WITH(parse_head_selection("L9", 2, 4), Catch::Contains("L0 .. L1"));
  CHECK_THROWS_WITH(parse_head_selection("L0H7", 2, 4), Catch::Contains("does not exist"));
  CHECK(parse_head_selection("L1", 2, 4).size() == 4);
  CHECK(parse_head_selection("all", 2, 4).size() == 8);
  CHECK_THROWS_WITH(SparseReplacement("topk", nullptr, SparsePhase::decode, 0, {}, 2, 4),
                    Catch::Contains(">= 1"));
  auto m = model();
  const auto x = tokens(1, 10, 4);
  SparseReplacement late("topk(k=2)", nullptr, SparsePhase::decode, 30,
                         parse_head_selection("all", 2, 4), 2, 4);
  CHECK_THROWS_WITH(logits_with(*m, &late, x, 1, 10), Catch::Contains("longer than the sequence"));
  m->remove_observer(&late);
  SparseReplacement ch("channel_topk(k=2)", nullptr, SparsePhase::decode, 4,
                       parse_head_selection("all", 2, 4), 2, 4);
  CHECK_THROWS_WITH(logits_with(*m, &ch, x, 1, 10), Catch::Contains("calibration"));
  m->remove_observer(&ch);
  auto task = make_task("needle(len=48,vocab=16,batch=2,seed=1)");
  SparseEvalOptions opt;
  opt.budget = "4,8";
  CHECK_THROWS_WITH(sparse_eval(*m, *task, opt), Catch::Contains("one budget"));
}

TEST_CASE("decode and kv schedules in one pass equal a real KV-cached decode with the same selector",
          "[analysis][sparse][replace][kvcache]") {
  auto m = model();
  const int T = 36, Tp = 20, V = 16;
  const auto x = tokens(1, T, 7);
  const std::vector<std::string> specs = {m->attention(0).spec(), m->attention(1).spec()};
  const std::vector<std::pair<std::string, SparsePhase>> cases = {
      {"topk(k=5)", SparsePhase::decode},
      {"block_topk(k=2,block=4,score=mean)", SparsePhase::decode},
      {"block_topk(k=2,block=4,score=oracle)", SparsePhase::decode},
      {"quest(k=8,page=4)", SparsePhase::decode},
      {"window(size=4,sinks=1)", SparsePhase::decode},
      // The estimate from the last 6 prefill rows, recorded by the hook as the prefill passes.
      {"vertical_slash(v=3,s=3,last_q=6,force_v=1,force_s=1)", SparsePhase::decode},
      // The cache compressed at the end of the prefill, then decoded with what it kept.
      {"topk(k=6)", SparsePhase::kv},
      {"window(size=4,sinks=1)", SparsePhase::kv},
      {"quest(k=8,page=4)", SparsePhase::kv},
      // Estimates from the last prefill rows, which the hook records before row prefill - 1.
      {"vertical_slash(v=3,s=3,last_q=6,force_v=1,force_s=1)", SparsePhase::kv},
      {"snapkv(k=8,obs=6,kernel=3,local=3,prefix=1)", SparsePhase::kv},
      {"snapkv(k=8,obs=6,kernel=3,local=3,prefix=1)", SparsePhase::decode},
  };
  for (const auto& [spec, phase] : cases) {
    INFO(spec << " " << sparse_phase_name(phase));
    const std::vector<HeadRef> heads = parse_head_selection("L0H1,L1H0,L1H2", 2, 4);
    SparseReplacement rep(spec, nullptr, phase, Tp, heads, 2, 4);
    const std::vector<float> one_pass = logits_with(*m, &rep, x, 1, T);
    const std::vector<float> dense = logits_with(*m, nullptr, x, 1, T);
    CHECK(max_abs_diff(one_pass.data() + Tp * V, dense.data() + Tp * V, size_t(T - Tp) * V) >
          1e-4);  // the pattern bites
    KVCache cache(m->config());
    cache.set_selector(
        sparse_decode_hook(spec, nullptr, phase, Tp, heads, specs, 4, m->config().context));
    const Tensor prompt = m->forward_cached(x.data(), 1, Tp, cache);
    CHECK(max_abs_diff(prompt.ptr(), one_pass.data(), size_t(Tp) * V) < 1e-5);
    for (int t = Tp; t < T; ++t) {
      const Tensor& step = m->forward_cached(x.data() + t, 1, 1, cache);
      INFO("step " << t);
      CHECK(max_abs_diff(step.ptr(), one_pass.data() + int64_t(t) * V, size_t(V)) < 1e-5);
    }
  }
  const auto all = parse_head_selection("all", 2, 4);
  for (const std::string spec : {"topk(k=6)", "window(size=4,sinks=1)", "quest(k=8,page=4)",
                                  "snapkv(k=8,obs=6,kernel=3,local=3,prefix=1)"}) {
    // The kv schedule with the dropped keys freed: after the prefill, compress_kv_cache compacts
    // every head to what it kept, and the hook-free decode over that cache gives the one-pass
    // schedule's logits from a smaller cache.
    INFO(spec << " compacted");
    SparseReplacement rep(spec, nullptr, SparsePhase::kv, Tp, all, 2, 4);
    const std::vector<float> one_pass = logits_with(*m, &rep, x, 1, T);
    KVCache cache(m->config());
    std::shared_ptr<const KvKeptKeys> kept;
    cache.set_selector(sparse_decode_hook(spec, nullptr, SparsePhase::kv, Tp, all, specs, 4,
                                          m->config().context, nullptr, &kept));
    m->forward_cached(x.data(), 1, Tp, cache);
    const size_t full = cache.bytes();
    const size_t freed = compress_kv_cache(cache, *kept);
    CHECK(freed > 0);
    CHECK(cache.bytes() == full - freed);
    CHECK(cache.selector() == nullptr);
    for (int t = Tp; t < T; ++t) {
      const Tensor& step = m->forward_cached(x.data() + t, 1, 1, cache);
      INFO("step " << t);
      CHECK(max_abs_diff(step.ptr(), one_pass.data() + int64_t(t) * V, size_t(V)) < 1e-5);
    }
    CHECK_THROWS_WITH(m->forward_cached(x.data(), 1, 48 - T + 1, cache), Catch::Contains("context"));
  }
  {
    // One head compressed, the others dense (a hybrid cache): only that head's buffer shrinks.
    const std::vector<HeadRef> one = parse_head_selection("L1H2", 2, 4);
    SparseReplacement rep("topk(k=6)", nullptr, SparsePhase::kv, Tp, one, 2, 4);
    const std::vector<float> one_pass = logits_with(*m, &rep, x, 1, T);
    KVCache cache(m->config());
    std::shared_ptr<const KvKeptKeys> kept;
    cache.set_selector(sparse_decode_hook("topk(k=6)", nullptr, SparsePhase::kv, Tp, one, specs, 4,
                                          m->config().context, nullptr, &kept));
    m->forward_cached(x.data(), 1, Tp, cache);
    const size_t full = cache.bytes();
    // 2 layers x 4 heads x 48 rows; head L1H2 drops 20 - 6 prompt keys.
    CHECK(compress_kv_cache(cache, *kept) == full / (2 * 4 * 48) * (Tp - 6));
    for (int t = Tp; t < T; ++t) {
      const Tensor& step = m->forward_cached(x.data() + t, 1, 1, cache);
      CHECK(max_abs_diff(step.ptr(), one_pass.data() + int64_t(t) * V, size_t(V)) < 1e-5);
    }
  }
  CHECK_THROWS_WITH(sparse_decode_hook("block_topk(block=4)", nullptr, SparsePhase::kv, Tp, all,
                                       specs, 4, 48),
                    Catch::Contains("cannot run block patterns"));
  CHECK_THROWS_WITH(
      sparse_decode_hook("topk", nullptr, SparsePhase::prefill, Tp, all, specs, 4, 48),
      Catch::Contains("decode or kv"));
}

TEST_CASE("KV-compressed generation decodes what the one-pass kv schedule predicts",
          "[analysis][sparse][kvcache]") {
  auto m = model();
  const int Tp = 20, V = 16;
  const std::vector<int32_t> prompt = tokens(1, Tp, 11);
  SampleOptions so;
  so.max_new = 12;  // greedy
  const auto all = parse_head_selection("all", 2, 4);
  // A pattern that keeps every prompt key frees nothing and generates what generate() does.
  const CompressedGeneration same =
      generate_with_compressed_kv(*m, prompt, so, "topk(k=1000)", nullptr, all);
  CHECK(same.tokens == generate(*m, prompt, so));
  CHECK(same.kv_bytes_kept == same.kv_bytes_full);
  const CompressedGeneration g = generate_with_compressed_kv(*m, prompt, so, "topk(k=6)", nullptr, all);
  REQUIRE(g.tokens.size() == size_t(so.max_new));
  CHECK(g.kv_bytes_kept < g.kv_bytes_full);
  // Teacher-forced on what it generated, the one-pass kv schedule's argmax is each next token.
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), g.tokens.begin(), g.tokens.end());
  SparseReplacement rep("topk(k=6)", nullptr, SparsePhase::kv, Tp, all, 2, 4);
  const std::vector<float> logits = logits_with(*m, &rep, seq, 1, int(seq.size()));
  for (size_t i = 0; i < g.tokens.size(); ++i) {
    const float* row = logits.data() + (int64_t(Tp) - 1 + int64_t(i)) * V;
    INFO("token " << i);
    CHECK(int32_t(std::max_element(row, row + V) - row) == g.tokens[i]);
  }
  CHECK_THROWS_WITH(
      generate_with_compressed_kv(*m, prompt, so, "block_topk(block=4)", nullptr, all),
      Catch::Contains("cannot run block patterns"));
  CHECK_THROWS_WITH(generate_with_compressed_kv(*m, {}, so, "topk", nullptr, all),
                    Catch::Contains("prompt must hold"));
}
