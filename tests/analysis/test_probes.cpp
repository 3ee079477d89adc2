// Probes, ablation and bad input on small random models (the registry's variants), plus the
// real stories260K model in ../shared.
#include <catch2/catch.hpp>
#include <fstream>

#include "analysis/ablation.h"
#include "analysis/probes.h"
#include "core/io/open_model.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

ModelConfig tiny(const std::string& attention) {
  ModelConfig c;
  c.vocab_size = 40;
  c.context = 128;
  c.d_model = 16;
  c.n_layers = 2;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.d_ff = 32;
  c.attention = {attention};
  c.bos_token = 0;
  c.bos_policy = "prepend";
  return c;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("probes run on every registered variant", "[analysis][probes]") {
  ProbeOptions opt;
  opt.n_seqs = 4;
  opt.T = 24;
  opt.samples = 2;
  opt.block = 8;
  opt.loss_batch = 2;
  opt.loss_subseq = 16;
  opt.census_block = 8;
  for (const VariantInfo& v : attention_variants()) {
    INFO(v.test_specs.front());
    ModelConfig cfg = tiny(v.test_specs.front());
    Transformer model(cfg);
    model.init_weights(1);
    VocabInfo vocab = VocabInfo::from_config(cfg);
    opt.source = "random";
    HeadTable s = sink_probe(model, vocab, opt);
    CHECK(s.scalar("sink_k1_pct") >= 0.0);
    CHECK(s.scalar("sink_k1_pct") <= 100.0);
    CHECK(s.meta("bos") == "prepend (first token is BOS)");
    for (int l = 0; l < cfg.n_layers; ++l)
      for (int h = 0; h < cfg.n_heads; ++h) {
        CHECK(s.get("norm_entropy", l, h) >= -1e-9);
        CHECK(s.get("norm_entropy", l, h) <= 1.0 + 1e-6);
        CHECK(s.get("alpha1", l, h) >= -1e-9);
      }
    HeadTable ind = induction_probe(model, vocab, opt);
    CHECK(std::isfinite(ind.scalar("induction_loss")));
    HeadTable c = census_probe(model, vocab, opt);
    // Untrained heads: flagged only where they beat uniform attention on the same tokens.
    CHECK(c.scalar("razor_echo_heads") <= 1);
  }
}

TEST_CASE("bad probe input gives clear errors", "[analysis][probes][errors]") {
  ModelConfig cfg = tiny("softmax");
  Transformer model(cfg);
  model.init_weights(1);
  VocabInfo vocab = VocabInfo::from_config(cfg);
  ProbeOptions opt;
  try {
    run_probe("sinkk", model, vocab, opt);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "unknown probe 'sinkk'"));
    CHECK(contains(e.what(), "sink, induction, retrieval, census"));
  }
  opt.T = 200;
  opt.source = "random";
  CHECK_THROWS_WITH(sink_probe(model, vocab, opt), Catch::Contains("longer than the model's context (128)"));
  opt.T = 16;
  opt.source = "natural";
  CHECK_THROWS_WITH(sink_probe(model, vocab, opt), Catch::Contains("need the model's tokenizer"));
  opt.source = "sideways";
  CHECK_THROWS_WITH(sink_probe(model, vocab, opt), Catch::Contains("source 'sideways' is unknown"));
  std::vector<int32_t> long_prompt(129, 1);
  CHECK_THROWS_WITH(prompt_probe(model, long_prompt, opt), Catch::Contains("longer than the model's context"));
  VocabInfo no_bos = vocab;
  no_bos.bos = -1;
  opt.source = "random";
  opt.bos = "prepend";
  CHECK_THROWS_WITH(sink_probe(model, no_bos, opt), Catch::Contains("has none"));
  CHECK_THROWS_WITH(retrieval_probe(model, vocab, opt), Catch::Contains("tokenizer"));
}

TEST_CASE("head names: parsing and nonexistent heads", "[analysis][ablation][errors]") {
  auto heads = parse_heads("L0H1, L1H0,L0H1", 2, 4);
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].str() == "L0H1");
  CHECK(heads[1].str() == "L1H0");
  CHECK(parse_heads("", 2, 4).empty());
  CHECK_THROWS_WITH(parse_heads("L2H0", 2, 4), Catch::Contains("head L2H0 does not exist") &&
                                                   Catch::Contains("L0H0 .. L1H3"));
  CHECK_THROWS_WITH(parse_heads("L0H4", 2, 4), Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(parse_heads("5:3", 2, 4), Catch::Contains("not of the form L<layer>H<head>"));
  CHECK_THROWS_WITH(parse_heads("L-1H0", 2, 4), Catch::Contains("not of the form"));
  CHECK_THROWS_WITH(parse_ablation_mode("half"), Catch::Contains("zero, mean or uniform"));
}

TEST_CASE("zero ablation equals zeroing the head's slice of the output projection", "[analysis][ablation]") {
  ModelConfig cfg = tiny("softmax");
  Transformer model(cfg);
  model.init_weights(3);
  std::vector<int32_t> tokens = {0, 5, 9, 5, 9, 12, 3, 5, 9, 7};
  const int T = int(tokens.size());
  HeadAblation ab({{1, 1}}, AblationMode::zero, cfg.n_layers, cfg.n_heads);
  std::vector<float> base = model.forward(tokens.data(), 1, T).data;
  model.add_observer(&ab);
  std::vector<float> ablated = model.forward(tokens.data(), 1, T).data;
  model.remove_observer(&ab);
  CHECK(test::max_rel_error(ablated, base) > 1e-4);  // the head mattered
  // The same model with wo's input columns for head 1 of layer 1 set to zero.
  auto w = model.weights();
  Tensor& wo = w["layers.1.attn.wo.weight"];  // [D, H*Dh]
  const int Dh = cfg.head_dim(), HD = cfg.n_heads * Dh;
  for (int r = 0; r < cfg.d_model; ++r)
    for (int c = Dh; c < 2 * Dh; ++c) wo.data[size_t(r) * HD + c] = 0.0f;
  model.load_weights(w);
  std::vector<float> surgery = model.forward(tokens.data(), 1, T).data;
  CHECK(test::max_rel_error(ablated, surgery) < 1e-5);
}

TEST_CASE("mean ablation replaces a head's output by its calibrated mean", "[analysis][ablation]") {
  HeadAblation ab({{0, 1}}, AblationMode::mean, 1, 2);
  AttnShape s{1, 2, 3, 2};
  std::vector<float> out = {1, 1, 1, 1, 1, 1, /* head 1 */ 1, 2, 3, 4, 5, 6};
  CHECK_THROWS_WITH(ab.on_head_outputs(0, s, out.data()), Catch::Contains("calibrate"));
  ModelConfig cfg = tiny("softmax");
  cfg.n_layers = 1;
  Transformer model(cfg);
  model.init_weights(2);
  std::vector<int32_t> tokens = {0, 1, 2, 3};
  struct Capture : ForwardObserver {
    std::vector<float> head1;
    void on_head_outputs(int, const AttnShape& s, float* o) override {
      head1.assign(o + s.head_size(), o + 2 * s.head_size());
    }
  } cap;
  model.add_observer(&cap);
  model.forward(tokens.data(), 1, 4);
  model.remove_observer(&cap);
  ab.calibrate(model, tokens.data(), 1, 4);
  const int Dh = cfg.head_dim();
  std::vector<float> want(size_t(Dh), 0.0f);
  for (int t = 0; t < 4; ++t)
    for (int d = 0; d < Dh; ++d) want[size_t(d)] += cap.head1[size_t(t) * Dh + d] / 4.0f;
  std::vector<float> o(size_t(2) * 4 * Dh, 7.0f);
  ab.on_head_outputs(0, {1, 2, 4, Dh}, o.data());
  for (int t = 0; t < 4; ++t)
    for (int d = 0; d < Dh; ++d) CHECK(o[size_t(4 + t) * Dh + d] == Approx(want[size_t(d)]));
  CHECK(o[0] == 7.0f);  // head 0 untouched
}

TEST_CASE("stories260K: sink and induction probes report per-head tables", "[analysis][stories260k]") {
  OpenedModel m = open_model(test::shared_file("models/stories260K/stories260K.gguf").string());
  REQUIRE(m.tokenizer);
  const ModelConfig& cfg = m.model->config();
  VocabInfo vocab = VocabInfo::from_tokenizer(*m.tokenizer, cfg.vocab_size);
  ProbeOptions opt;
  opt.n_seqs = 20;
  HeadTable sink = sink_probe(*m.model, vocab, opt);
  CHECK(sink.n_layers() == cfg.n_layers);
  CHECK(sink.n_heads() == cfg.n_heads);
  CHECK(sink.meta("bos") == "prepend (first token is BOS)");
  CHECK(sink.meta("T") == "64");
  const double pct = sink.scalar("sink_k1_pct");
  CHECK(pct >= 0.0);
  CHECK(pct <= 100.0);
  opt.loss_subseq = 64;
  HeadTable ind = induction_probe(*m.model, vocab, opt);
  double best = 0;
  for (int l = 0; l < cfg.n_layers; ++l)
    for (int h = 0; h < cfg.n_heads; ++h) best = std::max(best, ind.get("prefix_matching", l, h));
  CHECK(best > 0.0);
  CHECK(best <= 1.0 + 1e-6);
  CHECK(std::isfinite(ind.scalar("induction_loss")));
}

TEST_CASE("retrieval: ROUGE-1 recall filter and a smoke run with a char tokenizer", "[analysis][retrieval]") {
  CHECK(rouge1_recall("purple elephant", "It was a Purple elephant!") == Approx(1.0));
  CHECK(rouge1_recall("purple elephant", "purple cat") == Approx(0.5));
  CHECK(rouge1_recall("a a b", "a b") == Approx(2.0 / 3.0));
  CHECK(rouge1_recall("", "x") == 0.0);

  std::string text = "Lily's secret word was purple elephant. The cat sat. A dog ran.\n";
  auto tok = make_char_tokenizer(char_alphabet_of(text));
  ModelConfig cfg = tiny("softmax");
  cfg.vocab_size = tok->vocab_size();
  cfg.bos_token = -1;
  cfg.bos_policy = "none";
  Transformer model(cfg);
  model.init_weights(5);
  VocabInfo vocab = VocabInfo::from_tokenizer(*tok, cfg.vocab_size);
  ProbeOptions opt;
  auto dir = test::temp_dir("retrieval");
  opt.corpus = (dir / "hay.txt").string();
  {
    std::ofstream f(opt.corpus);
    for (int i = 0; i < 100; ++i) f << "The cat sat. A dog ran.\n";
  }
  opt.needle = " Lily's secret word was purple elephant.";
  opt.needle_answer = "purple elephant";
  opt.question = " the secret was";
  opt.haystack_lengths = {20, 40};
  opt.depths = {0.25, 0.75};
  opt.max_new = 3;
  HeadTable t = retrieval_probe(model, vocab, opt);
  CHECK(t.scalar("trials") == 4);
  CHECK(t.scalar("accepted_trials") >= 0);
  CHECK(contains(t.meta("grid"), "20 tokens: "));
  // An untrained model recalls nothing: the score is undefined, not 0.
  if (t.scalar("accepted_trials") == 0) CHECK(std::isnan(t.get("retrieval_score", 0, 0)));
  opt.question_style = "copy_cue";
  CHECK(retrieval_probe(model, vocab, opt).meta("question_style") == "copy_cue");
  opt.question_style = "shout";
  CHECK_THROWS_WITH(retrieval_probe(model, vocab, opt), Catch::Contains("question style 'shout'"));
  opt.question_style = "ask";
  opt.haystack_lengths = {500};
  CHECK_THROWS_WITH(retrieval_probe(model, vocab, opt), Catch::Contains("does not fit the context"));
  opt.haystack_lengths = {20};
  opt.needle_answer = "dog";
  CHECK_THROWS_WITH(retrieval_probe(model, vocab, opt), Catch::Contains("cannot find the answer 'dog'"));
}

TEST_CASE("untrained window-8 model: no sink by Gu's alpha_1, chance level beside it", "[analysis][probes][known]") {
  // Freshly initialised weights give near-uniform attention: nothing to flag. Under the old
  // visible-query divisor the same model scored Sink_1 = 100 % (H_8 / 8 > 0.3).
  ModelConfig cfg = tiny("softmax+window(size=8)");
  Transformer model(cfg);
  model.init_weights(1);
  VocabInfo vocab = VocabInfo::from_config(cfg);
  ProbeOptions opt;
  opt.source = "random";
  opt.n_seqs = 8;
  opt.T = 64;
  HeadTable t = sink_probe(model, vocab, opt);
  CHECK(t.scalar("sink_k1_pct") == 0.0);
  double h8 = 0;
  for (int n = 1; n <= 8; ++n) h8 += 1.0 / n;
  for (int l = 0; l < cfg.n_layers; ++l)
    for (int h = 0; h < cfg.n_heads; ++h) {
      CHECK(t.chance("alpha1", l, h) == Approx(h8 / 64));
      CHECK(t.get("alpha1", l, h) == Approx(h8 / 64).epsilon(0.1));
      CHECK(std::isfinite(t.ci95("alpha1", l, h)));
    }
  CHECK(t.scalar("sink_k1_pct_chance") == 0.0);
  CHECK(t.meta("sink_chance_warning").empty());
  // At T = 8 uniform attention itself clears eps (H_8 / 8 = 0.34): the table says so.
  opt.T = 8;
  HeadTable s = sink_probe(model, vocab, opt);
  CHECK(s.scalar("sink_k1_pct_chance") == 100.0);
  CHECK(contains(s.meta("sink_chance_warning"), "L0 (0.34)"));
}

TEST_CASE("sink probe source 'all': Gu et al.'s columns with and without BOS", "[analysis][probes]") {
  ModelConfig cfg = tiny("softmax");
  Transformer model(cfg);
  model.init_weights(2);
  VocabInfo vocab = VocabInfo::from_config(cfg);
  ProbeOptions opt;
  opt.n_seqs = 3;
  opt.T = 16;
  opt.corpus = "";  // natural text sampled from the model itself
  opt.source = "all";
  HeadTable t = sink_probe(model, vocab, opt);
  for (const std::string src : {"natural", "random", "repeated"})
    for (const std::string bos : {"bos", "no_bos"}) {
      INFO(src << " " << bos);
      const double v = t.scalar("sink_k1_pct." + src + "." + bos);
      CHECK(v >= 0.0);
      CHECK(v <= 100.0);
      CHECK(std::isfinite(t.scalar("sink_k1_pct_chance." + src + "." + bos)));
    }
  CHECK(contains(t.meta("corpus"), "sampled from the model"));
}

TEST_CASE("model-sampled text: the model's own distribution, reproducible by seed", "[analysis][probes]") {
  ModelConfig cfg = tiny("softmax");
  Transformer model(cfg);
  model.init_weights(4);
  VocabInfo vocab = VocabInfo::from_config(cfg);
  auto a = model_text_sequences(model, vocab, 3, 12, true, 7);
  auto b = model_text_sequences(model, vocab, 3, 12, true, 7);
  CHECK(a == b);
  REQUIRE(a.size() == 3);
  for (const auto& s : a) {
    REQUIRE(s.size() == 12);
    CHECK(s[0] == cfg.bos_token);
    for (int32_t x : s) CHECK((x >= 0 && x < cfg.vocab_size));
  }
  CHECK_THROWS_WITH(model_text_sequences(model, vocab, 1, 200, true, 1), Catch::Contains("exceeds the context"));
}

TEST_CASE("uniform ablation: the head's output becomes the mean of its visible values", "[analysis][ablation]") {
  ModelConfig cfg = tiny("softmax+window(size=3)");
  cfg.n_layers = 1;
  Transformer model(cfg);
  model.init_weights(6);
  const std::vector<int32_t> tokens = {0, 4, 9, 4, 2, 7, 9};
  const int T = int(tokens.size());
  // Records the layer's values, then the (ablated) head outputs that follow them.
  struct Capture : ForwardObserver {
    std::vector<float> v, out;
    AttnShape shape;
    void on_attention(const LayerAttentionView& view) override {
      shape = view.inputs->shape;
      v.assign(view.inputs->v, view.inputs->v + int64_t(shape.B) * shape.H * shape.head_size());
    }
    void on_head_outputs(int, const AttnShape& s, float* o) override {
      out.assign(o, o + int64_t(s.B) * s.H * s.head_size());
    }
  } cap;
  HeadAblation ab({{0, 1}}, AblationMode::uniform, cfg.n_layers, cfg.n_heads);
  model.add_observer(&ab);
  model.add_observer(&cap);  // after the ablation: sees the overwritten outputs
  model.forward(tokens.data(), 1, T);
  model.remove_observer(&cap);
  model.remove_observer(&ab);
  const int Dh = cfg.head_dim();
  const float* v1 = cap.v.data() + int64_t(1) * cap.shape.head_size();
  const float* o1 = cap.out.data() + int64_t(1) * cap.shape.head_size();
  for (int t = 0; t < T; ++t)
    for (int d = 0; d < Dh; ++d) {
      double want = 0;
      int n = 0;
      for (int j = std::max(0, t - 2); j <= t; ++j, ++n) want += v1[int64_t(j) * Dh + d];
      CHECK(o1[int64_t(t) * Dh + d] == Approx(want / n).margin(1e-6));
    }
  CHECK(ab.describe() == "uniform: L0H1");
}
