// The KV cache (core/model/kv_cache.h): cached decoding, prefilled in chunks and then token by
// token, gives the full forward's logits at every position, for every score-based variant and
// mask, with RoPE (both styles, partial), learned positions, GQA and parallel residuals; the
// key-selector hook; clear errors; generate() on top of it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>

#include "core/model/kv_cache.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "tests/io/stories260k_fixture.h"
#include "tests/test_support.h"

using namespace attnlab;
using Catch::Contains;

namespace {

ModelConfig small_config(const std::string& attention, int variant = 0) {
  ModelConfig c;
  c.vocab_size = 50;
  c.context = 160;
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;  // GQA
  c.d_ff = 48;
  c.attention = {attention};
  if (variant == 1) {  // GPT-2 style: learned positions, LayerNorm, GELU, biases, untied head
    c.pos = PosEncoding::learned;
    c.norm = NormKind::layernorm;
    c.mlp = MlpKind::gelu_tanh;
    c.bias = true;
    c.tied_embeddings = false;
    c.n_kv_heads = 4;
  } else if (variant == 2) {  // GPT-NeoX style: half-split partial rotary, parallel residual
    c.rope_style = RopeStyle::half;
    c.rotary_pct = 0.5f;
    c.parallel_residual = true;
    c.norm = NormKind::layernorm;
    c.mlp = MlpKind::gelu;
    c.n_kv_heads = 1;
  }
  return c;
}

// Weights far enough from init that attention is not near uniform and gates matter.
void randomize(Transformer& m, uint64_t seed) {
  m.init_weights(seed);
  Rng rng(seed + 1);
  for (const Param& p : m.params())
    for (float& x : p.value->data) x += float(rng.normal() * 0.15);
}

std::vector<float> rows(const Tensor& logits, int t0, int t1, int V) {
  return std::vector<float>(logits.ptr() + int64_t(t0) * V, logits.ptr() + int64_t(t1) * V);
}

// Cached decoding in the given chunks (summing to tokens.size()), its logits of every position.
std::vector<float> decode_in_chunks(Transformer& m, const std::vector<int32_t>& tokens,
                                    const std::vector<int>& chunks) {
  KVCache cache(m.config());
  std::vector<float> out;
  int pos = 0;
  for (int n : chunks) {
    const Tensor& l = m.forward_cached(tokens.data() + pos, 1, n, cache);
    REQUIRE(l.shape == std::vector<int64_t>{1, n, m.config().vocab_size});
    std::vector<float> r = rows(l, 0, n, m.config().vocab_size);
    out.insert(out.end(), r.begin(), r.end());
    pos += n;
    CHECK(cache.length() == pos);
  }
  return out;
}

}  // namespace

TEST_CASE("a compacted KV cache decodes from the positions it keeps", "[kvcache]") {
  // Keeping every cached position goes through the compacted path (rows read by their recorded
  // positions, heads at their own offsets) and must still equal the full forward; dropping keys
  // shrinks each head's buffer; bad positions are refused. GQA, a window mask and fox's
  // position-indexed gates included.
  for (const std::string attention : {"softmax", "softmax+window(size=6,sinks=2)", "fox"}) {
    for (int variant : {0, 2}) {
      INFO(attention << " variant " << variant);
      ModelConfig c = small_config(attention, variant);
      Transformer m(c);
      randomize(m, 5);
      const int T = 30, Tp = 17, V = c.vocab_size;
      Rng rng(8);
      std::vector<int32_t> tokens(static_cast<size_t>(T));
      for (int32_t& t : tokens) t = int32_t(rng.below(V));
      const std::vector<float> full = m.forward(tokens.data(), 1, T).data;
      KVCache cache(c, 1, 40);
      m.forward_cached(tokens.data(), 1, Tp, cache);
      const size_t before = cache.bytes();
      cache.compact([&](int, int, int) {
        std::vector<int> all(static_cast<size_t>(Tp));
        std::iota(all.begin(), all.end(), 0);
        return all;
      });
      CHECK(cache.bytes() == before);  // all kept: rows for Tp positions plus the 23 to come
      for (int t = Tp; t < T; t += 4) {
        const int n = std::min(4, T - t);
        const Tensor& l = m.forward_cached(tokens.data() + t, 1, n, cache);
        const std::vector<float> want(full.begin() + int64_t(t) * V, full.begin() + int64_t(t + n) * V);
        CHECK(test::max_rel_error(l.data, want, 1e-3) < 1e-5);
      }
      // Keep a few positions, a different number per head: each head's buffer shrinks to what it
      // keeps plus the 10 positions still to come.
      cache.compact([&](int layer, int, int g) {
        return g == 0 ? std::vector<int>{3} : std::vector<int>{0, 3, 20 + layer};
      });
      const size_t per_row = before / size_t(c.n_kv_heads * 40);
      CHECK(cache.bytes() == per_row * size_t(1 + 10 + (c.n_kv_heads - 1) * (3 + 10)));
      const Tensor& next = m.forward_cached(tokens.data(), 1, 1, cache);  // decodes on
      CHECK(next.numel() == V);
      // A key selector reads keys by position: compact() removes it and a new one is refused.
      cache.set_selector([](const KeySelectQuery& q, std::vector<int>& keep) {
        keep.assign(q.keys, q.keys + q.n);
      });
      cache.compact([&](int layer, int, int g) {
        return g == 0 ? std::vector<int>{3} : std::vector<int>{0, 3, 20 + layer};
      });
      CHECK(cache.selector() == nullptr);
      cache.set_selector([](const KeySelectQuery&, std::vector<int>&) {});
      CHECK_THROWS_WITH(m.forward_cached(tokens.data(), 1, 1, cache), Contains("compacted"));
      cache.set_selector({});
      CHECK_THROWS_WITH(cache.compact([](int, int, int) { return std::vector<int>{5}; }),
                        Contains("not cached"));
      CHECK_THROWS_WITH(cache.compact([](int, int, int) { return std::vector<int>{3, 0}; }),
                        Contains("not ascending"));
      cache.clear();
      CHECK(cache.bytes() == before);
    }
  }
}

TEST_CASE("the in-place inference forward equals the training forward", "[model][kvcache]") {
  // Block::infer updates the stream in place, normalizes for the projections a chunk of rows at a
  // time and runs W_O and the MLP by rows; Block::forward (training) keeps every buffer. Every
  // residual layout (sequential, GPT-2, parallel), no MLP, and variants that read the block input
  // (fox, gated) and do not (softmax, window).
  struct Case {
    std::string attention;
    int variant;
    bool no_mlp;
  };
  for (const Case& k : {Case{"softmax", 0, false}, Case{"softmax", 1, false}, Case{"fox", 2, false},
                        Case{"gated(mode=headwise)", 0, false}, Case{"softmax+window(size=5,sinks=1)", 1, true}}) {
    INFO(k.attention << " variant " << k.variant << (k.no_mlp ? " no MLP" : ""));
    ModelConfig c = small_config(k.attention, k.variant);
    if (k.no_mlp) c.mlp = MlpKind::none;
    Transformer m(c);
    randomize(m, 21);
    const int B = 2, T = 37, V = c.vocab_size;
    Rng rng(3);
    std::vector<int32_t> tokens(size_t(B) * T);
    for (int32_t& t : tokens) t = int32_t(rng.below(V));
    const std::vector<float> trained = m.forward(tokens.data(), B, T, true).data;
    const std::vector<float> inferred = m.forward(tokens.data(), B, T).data;
    CHECK(test::max_rel_error(inferred, trained, 1e-3) < 1e-5);
    // Without logits: the observers see the same final stream, and no logits are left.
    struct LastStream : ForwardObserver {
      int last = 0;
      std::vector<float> h;
      void on_residual(int layer, const Tensor& t) override {
        if (layer == last) h = t.data;
      }
    } seen;
    seen.last = c.n_layers - 1;
    m.add_observer(&seen);
    m.forward(tokens.data(), B, T);
    const std::vector<float> with_logits = seen.h;
    m.forward_without_logits(tokens.data(), B, T);
    m.remove_observer(&seen);
    CHECK(seen.h == with_logits);
    CHECK(m.logits().numel() == 0);
  }
}

TEST_CASE("cached decoding equals the full forward at every position", "[kvcache]") {
  const std::vector<std::string> specs = {
      "softmax",
      "softmax+window(size=5,sinks=2)",
      "window(size=4)",
      "softmax+block(size=7)",
      "softmax+dilated(size=4,rate=3,sinks=1)",
      "sigmoid(bias=-log_t,norm=true)+window(size=9)",
      "relu",
      "elu1(norm=true)",
      "softpick+window(size=6,sinks=1)",
      "topk(k=3)",
      "alibi",
      "softmax1",
      "sink_logit",
      "kv_bias",
      "fox+window(size=6,sinks=1)",
      "gated(mode=headwise)+window(size=5)",
      "gated",
  };
  const int T = 40;
  for (int variant = 0; variant < 3; ++variant)
    for (const std::string& spec : specs) {
      INFO("spec " << spec << ", config variant " << variant);
      Transformer m(small_config(spec, variant));
      randomize(m, 11 + variant);
      REQUIRE(m.supports_cached_decoding());
      const std::vector<int32_t> tokens = test::random_tokens(T, m.config().vocab_size, 5);
      const int V = m.config().vocab_size;
      const std::vector<float> full = rows(m.forward(tokens.data(), 1, T), 0, T, V);
      std::vector<int> chunks = {13, 1, 1, 1, 7};
      while (std::accumulate(chunks.begin(), chunks.end(), 0) < T) chunks.push_back(1);
      const std::vector<float> cached = decode_in_chunks(m, tokens, chunks);
      CHECK(test::max_rel_error(cached, full) < 1e-5);
    }
}

TEST_CASE("cached decoding across several tiles of queries and keys", "[kvcache]") {
  // 150 positions: the prefill spans three 64-row tiles, decoding reads keys from all of them.
  for (const std::string spec : {"softmax", "softmax+window(size=70,sinks=3)", "fox"}) {
    INFO("spec " << spec);
    Transformer m(small_config(spec));
    randomize(m, 3);
    const int T = 150, V = m.config().vocab_size;
    const std::vector<int32_t> tokens = test::random_tokens(T, V, 9);
    const std::vector<float> full = rows(m.forward(tokens.data(), 1, T), 0, T, V);
    std::vector<int> chunks = {130};
    for (int i = 130; i < T; ++i) chunks.push_back(1);
    CHECK(test::max_rel_error(decode_in_chunks(m, tokens, chunks), full) < 1e-5);
  }
}

TEST_CASE("a length-dependent bias refuses cached decoding; generate() recomputes", "[kvcache]") {
  // sigmoid(bias=-log_n): every position's weights depend on the sequence length, so earlier
  // positions change with each new token and a cache cannot hold them.
  Transformer m(small_config("sigmoid(bias=-log_n)"));
  randomize(m, 4);
  CHECK_FALSE(m.supports_cached_decoding());
  KVCache cache(m.config());
  const std::vector<int32_t> tokens = {1, 2, 3};
  CHECK_THROWS_WITH(m.forward_cached(tokens.data(), 1, 3, cache),
                    Contains("depend on the sequence length"));
  SampleOptions so;
  so.max_new = 3;
  std::vector<int32_t> seq = tokens;
  const std::vector<int32_t> got = generate(m, seq, so);
  for (int i = 0; i < so.max_new; ++i) {
    const Tensor& l = m.forward(seq.data(), 1, int(seq.size()));
    const float* row = l.ptr() + int64_t(seq.size() - 1) * m.config().vocab_size;
    seq.push_back(int32_t(std::max_element(row, row + m.config().vocab_size) - row));
  }
  CHECK(got == std::vector<int32_t>(seq.begin() + 3, seq.end()));
}

TEST_CASE("a key selector hides keys per row; keeping all of them is dense decoding",
          "[kvcache][selector]") {
  // Keeping {j < 1} and the last 3 keys is the model with window(size=3,sinks=1), same weights.
  Transformer dense(small_config("softmax")),
      windowed(small_config("softmax+window(size=3,sinks=1)"));
  randomize(dense, 8);
  windowed.load_weights(dense.weights());
  const int T = 30, V = dense.config().vocab_size, H = dense.config().n_heads;
  const int Dh = dense.config().head_dim();
  const std::vector<int32_t> tokens = test::random_tokens(T, V, 4);
  const std::vector<float> want_win = rows(windowed.forward(tokens.data(), 1, T), 0, T, V);
  const std::vector<float> want_dense = rows(dense.forward(tokens.data(), 1, T), 0, T, V);

  int calls = 0;
  bool fields_ok = true;
  KVCache cache(dense.config());
  cache.set_selector([&](const KeySelectQuery& q, std::vector<int>& keep) {
    ++calls;
    fields_ok = fields_ok && q.Dh == Dh && q.h >= 0 && q.h < H && q.b == 0 && q.n >= q.t + 1 &&
                q.keys[q.n - 1] >= q.t && q.q && q.k && q.scores;
    for (int i = 0; i < q.n; ++i)
      if (q.keys[i] < 1 || (q.keys[i] <= q.t && q.t - q.keys[i] < 3)) keep.push_back(q.keys[i]);
    keep.push_back(-5);  // not a candidate: ignored
  });
  std::vector<float> got;
  int pos = 0;
  for (int n : {10, 1, 1, 18}) {
    const Tensor& l = dense.forward_cached(tokens.data() + pos, 1, n, cache);
    std::vector<float> r = rows(l, 0, n, V);
    got.insert(got.end(), r.begin(), r.end());
    pos += n;
  }
  CHECK(test::max_rel_error(got, want_win) < 1e-5);
  CHECK(calls == T * H * dense.config().n_layers);
  CHECK(fields_ok);

  // The query row and keys the selector sees are the model's: its scores are q . k / sqrt(Dh).
  KVCache all(dense.config());
  double worst = 0;
  all.set_selector([&](const KeySelectQuery& q, std::vector<int>& keep) {
    for (int i = 0; i < q.n; ++i) {
      if (q.keys[i] > q.t) continue;
      double d = 0;
      for (int c = 0; c < q.Dh; ++c) d += double(q.q[c]) * q.k[int64_t(q.keys[i]) * q.Dh + c];
      worst = std::max(worst, std::abs(d / std::sqrt(double(q.Dh)) - q.scores[i]));
      keep.push_back(q.keys[i]);
    }
  });
  const Tensor& l = dense.forward_cached(tokens.data(), 1, T, all);
  CHECK(test::max_rel_error(rows(l, 0, T, V), want_dense) < 1e-5);
  CHECK(worst < 1e-4);
}

TEST_CASE("cached decoding errors are clear", "[kvcache][errors]") {
  ModelConfig c = small_config("softmax");
  c.context = 16;
  Transformer m(c);
  randomize(m, 1);
  const std::vector<int32_t> tokens = test::random_tokens(17, c.vocab_size, 1);
  {
    KVCache cache(c);
    CHECK_THROWS_WITH(m.forward_cached(tokens.data(), 1, 17, cache),
                      Contains("pass the model's context (16)"));
    m.forward_cached(tokens.data(), 1, 16, cache);
    CHECK_THROWS_WITH(m.forward_cached(tokens.data(), 1, 1, cache), Contains("context"));
    cache.clear();
    CHECK(cache.length() == 0);
    m.forward_cached(tokens.data(), 1, 4, cache);  // usable again
  }
  KVCache two(c, 2);
  CHECK_THROWS_WITH(m.forward_cached(tokens.data(), 1, 2, two), Contains("batch"));
  CHECK_THROWS_WITH(KVCache(c, 1, 17), Contains("capacity"));
  KVCache cache(c);
  std::vector<int32_t> bad = {1, c.vocab_size};
  CHECK_THROWS_WITH(m.forward_cached(bad.data(), 1, 2, cache), Contains("outside the vocabulary"));
  ModelConfig other = c;
  other.n_layers = 3;
  KVCache wrong(other);
  CHECK_THROWS_WITH(m.forward_cached(tokens.data(), 1, 2, wrong), Contains("another model"));

  // A variant without incremental decoding says so; generate() then recomputes.
  Transformer lin(small_config("linear(chunk=4)"));
  randomize(lin, 2);
  CHECK_FALSE(lin.supports_cached_decoding());
  KVCache lc(lin.config());
  CHECK_THROWS_WITH(lin.forward_cached(tokens.data(), 1, 3, lc),
                    Contains("cached (incremental) decoding is not supported"));
  SampleOptions so;
  so.max_new = 5;
  std::vector<int32_t> out = generate(lin, {1, 2, 3}, so);
  CHECK(out.size() == 5);
}

TEST_CASE("generate() with the cache matches greedy decoding by full forwards", "[kvcache]") {
  for (const std::string spec : {"softmax", "fox+window(size=6,sinks=1)"}) {
    INFO(spec);
    Transformer m(small_config(spec, 2));
    randomize(m, 6);
    std::vector<int32_t> seq = {3, 14, 15, 9, 2};
    SampleOptions so;
    so.max_new = 40;
    const std::vector<int32_t> got = generate(m, seq, so);
    for (int i = 0; i < so.max_new; ++i) {
      const Tensor& l = m.forward(seq.data(), 1, int(seq.size()));
      const float* row = l.ptr() + int64_t(seq.size() - 1) * m.config().vocab_size;
      seq.push_back(int32_t(std::max_element(row, row + m.config().vocab_size) - row));
    }
    CHECK(got == std::vector<int32_t>(seq.begin() + 5, seq.end()));
    // Decoding into a given cache: the same tokens, after_prefill called once; a cache that
    // already holds positions is refused.
    KVCache cache(m.config());
    int calls = 0;
    DecodeHooks hooks;
    hooks.cache = &cache;
    hooks.after_prefill = [&](KVCache& c) { calls += c.length() == 5; };
    CHECK(generate(m, {3, 14, 15, 9, 2}, so, hooks) == got);
    CHECK(calls == 1);
    CHECK_THROWS_WITH(generate(m, {3, 14}, so, hooks), Contains("already holds"));
  }
}

TEST_CASE("stories260K: cached decoding equals the forward and reproduces the greedy story",
          "[kvcache][stories260k]") {
  const LoadedModel& lm = test::stories_bin();
  Transformer model(lm.config);
  model.load_weights(lm.weights);
  const std::string expected = test::author_greedy_sample();
  const std::vector<int32_t> seq = lm.tokenizer->encode(expected, true);
  const int T = int(seq.size()), V = lm.config.vocab_size;
  const std::vector<float> full = rows(model.forward(seq.data(), 1, T), 0, T, V);
  std::vector<int> chunks = {20};
  for (int i = 20; i < T; ++i) chunks.push_back(1);
  CHECK(test::max_rel_error(decode_in_chunks(model, seq, chunks), full) < 1e-5);
  // All 256 steps of run.c's greedy sample through generate(), stopping at BOS like run.c.
  SampleOptions opts;
  opts.max_new = T - 1;
  opts.stop_token = 1;
  CHECK(generate(model, {1}, opts) == std::vector<int32_t>(seq.begin() + 1, seq.end()));
}
