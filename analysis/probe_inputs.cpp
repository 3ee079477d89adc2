#include "analysis/probe_inputs.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/model/config.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "core/tokenizer/tokenizer.h"
#include "datasets/text_corpus.h"

namespace attnlab {

VocabInfo VocabInfo::from_tokenizer(const Tokenizer& tok, int model_vocab) {
  VocabInfo v;
  v.vocab_size = std::min(model_vocab, tok.vocab_size());
  v.bos = tok.bos_id();
  v.eos = tok.eos_id();
  v.bos_policy = tok.bos_policy();
  // Special ids sit at the start of SentencePiece vocabularies (<unk>, <s>, </s>).
  const int special = std::max(v.bos, v.eos);
  v.first_plain = special >= 0 && special < v.vocab_size / 2 ? special + 1 : 0;
  v.tokenizer = &tok;
  return v;
}

VocabInfo VocabInfo::from_config(const ModelConfig& cfg) {
  VocabInfo v;
  v.vocab_size = cfg.vocab_size;
  v.bos = cfg.bos_token;
  v.bos_policy = cfg.bos_policy;
  v.first_plain = v.bos >= 0 && v.bos < v.vocab_size / 2 ? v.bos + 1 : 0;
  return v;
}

VocabInfo VocabInfo::for_model(const Tokenizer* tok, const ModelConfig& cfg) {
  if (!tok) return from_config(cfg);
  VocabInfo v = from_tokenizer(*tok, cfg.vocab_size);
  if (v.bos < 0 && cfg.bos_token >= 0 && cfg.bos_token < v.vocab_size) {
    v.bos = cfg.bos_token;
    v.bos_policy = cfg.bos_policy;
    v.first_plain = std::max(v.first_plain, v.bos < v.vocab_size / 2 ? v.bos + 1 : 0);
  }
  return v;
}

bool resolve_bos(const std::string& option, const VocabInfo& v) {
  bool want;
  if (option == "model") want = v.bos_policy == "prepend";
  else if (option == "prepend") want = true;
  else if (option == "none") want = false;
  else throw Error("BOS policy '" + option + "' is unknown; use model, prepend or none");
  if (want && v.bos < 0) throw Error("BOS policy '" + option + "' asks for a BOS token but the model has none");
  return want;
}

namespace {

void check_len(const VocabInfo& v, int n, int T) {
  if (n < 1) throw Error("a probe needs at least one sequence");
  if (T < 2) throw Error("a probe sequence needs at least 2 tokens");
  if (v.vocab_size - v.first_plain < 2) throw Error("the vocabulary has fewer than 2 plain tokens");
}

int32_t plain(const VocabInfo& v, Rng& rng) {
  return int32_t(v.first_plain + rng.below(v.vocab_size - v.first_plain));
}

}  // namespace

std::vector<std::vector<int32_t>> natural_sequences(const VocabInfo& v, const std::string& corpus,
                                                    int n, int T, bool bos, uint64_t seed) {
  check_len(v, n, T);
  if (!v.tokenizer) throw Error("natural-text probes need the model's tokenizer (this checkpoint has none)");
  std::string text = read_text_file(corpus);
  strip_gutenberg(text);
  const int need = T - (bos ? 1 : 0);
  // Enough characters for `need` tokens with room to spare (tokens average a few bytes).
  const size_t chunk = size_t(need) * 16 + 64;
  if (text.size() < chunk + 1) throw Error("corpus '" + corpus + "' is too short for " + std::to_string(n) + " probe sequences");
  Rng rng(seed);
  std::vector<std::vector<int32_t>> out;
  for (int i = 0; i < n; ++i) {
    size_t off = size_t(rng.below(int64_t(text.size() - chunk)));
    size_t nl = text.find('\n', off);  // start at a line start, as a document would
    if (nl != std::string::npos && nl + 1 < text.size() - chunk) off = nl + 1;
    std::vector<int32_t> ids = v.tokenizer->encode(text.substr(off, chunk), false);
    if (int(ids.size()) < need) throw Error("corpus chunk gave only " + std::to_string(ids.size()) + " tokens");
    std::vector<int32_t> s;
    if (bos) s.push_back(v.bos);
    s.insert(s.end(), ids.begin(), ids.begin() + need);
    for (int32_t& x : s)
      if (x >= v.vocab_size) throw Error("the tokenizer produced id " + std::to_string(x) + " outside the model's vocabulary");
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::vector<int32_t>> model_text_sequences(Transformer& model, const VocabInfo& v, int n, int T,
                                                       bool bos, uint64_t seed) {
  check_len(v, n, T);
  const int V = model.config().vocab_size;
  if (T > model.config().context)
    throw Error("model-sampled text: T = " + std::to_string(T) + " exceeds the context (" +
                std::to_string(model.config().context) + ")");
  Rng rng(seed);
  std::vector<int32_t> flat(size_t(n) * T, 0);
  for (int b = 0; b < n; ++b) flat[size_t(b) * T] = bos ? v.bos : plain(v, rng);
  // Each step re-runs the prefix [n, t] and samples position t from the last row's softmax.
  std::vector<int32_t> prefix;
  std::vector<double> p(static_cast<size_t>(V), 0.0);
  for (int t = 1; t < T; ++t) {
    prefix.resize(size_t(n) * t);
    for (int b = 0; b < n; ++b)
      std::copy_n(flat.begin() + int64_t(b) * T, t, prefix.begin() + int64_t(b) * t);
    const Tensor& logits = model.forward(prefix.data(), n, t);
    for (int b = 0; b < n; ++b) {
      const float* z = logits.ptr() + (int64_t(b) * t + (t - 1)) * V;
      const float zmax = *std::max_element(z, z + v.vocab_size);
      double sum = 0;
      for (int i = 0; i < v.vocab_size; ++i) sum += p[size_t(i)] = std::exp(double(z[i] - zmax));
      double u = rng.uniform() * sum;
      int pick = v.vocab_size - 1;
      for (int i = 0; i < v.vocab_size; ++i)
        if ((u -= p[size_t(i)]) <= 0) {
          pick = i;
          break;
        }
      flat[size_t(b) * T + t] = pick;
    }
  }
  std::vector<std::vector<int32_t>> out;
  for (int b = 0; b < n; ++b) out.emplace_back(flat.begin() + int64_t(b) * T, flat.begin() + int64_t(b + 1) * T);
  return out;
}

std::vector<std::vector<int32_t>> random_sequences(const VocabInfo& v, int n, int T, bool bos,
                                                   uint64_t seed) {
  check_len(v, n, T);
  Rng rng(seed);
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(n));
  for (auto& s : out) {
    if (bos) s.push_back(v.bos);
    while (int(s.size()) < T) s.push_back(plain(v, rng));
  }
  return out;
}

std::vector<std::vector<int32_t>> repeated_token_sequences(const VocabInfo& v, int n, int T,
                                                           bool bos, uint64_t seed) {
  check_len(v, n, T);
  Rng rng(seed);
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(n));
  for (auto& s : out) {
    const int32_t x = plain(v, rng);
    if (bos) s.push_back(v.bos);
    while (int(s.size()) < T) s.push_back(x);
  }
  return out;
}

std::vector<std::vector<int32_t>> repeated_block_sequences(const VocabInfo& v, int n, int block,
                                                           int repeats, bool bos, uint64_t seed) {
  check_len(v, n, block * repeats + (bos ? 1 : 0));
  const int plain_n = v.vocab_size - v.first_plain;
  if (block > plain_n)
    throw Error("a block of " + std::to_string(block) + " distinct tokens needs a larger vocabulary (" +
                std::to_string(plain_n) + " plain tokens)");
  Rng rng(seed);
  std::vector<int32_t> pool(static_cast<size_t>(plain_n), 0);
  std::iota(pool.begin(), pool.end(), v.first_plain);
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(n));
  for (auto& s : out) {
    // Partial Fisher-Yates: the first `block` entries become a draw without replacement.
    for (int i = 0; i < block; ++i) std::swap(pool[size_t(i)], pool[size_t(i + rng.below(plain_n - i))]);
    if (bos) s.push_back(v.bos);
    for (int r = 0; r < repeats; ++r) s.insert(s.end(), pool.begin(), pool.begin() + block);
  }
  return out;
}

}  // namespace attnlab
