#include "datasets/bigram_backcopy.h"

#include <algorithm>
#include <numeric>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/sampling.h"
#include "datasets/task_registry.h"
#include "datasets/tinyshakespeare_bigrams.h"

namespace attnlab {

BigramBackcopyTask::BigramBackcopyTask(const BigramBackcopyConfig& cfg)
    : SeededTask(cfg.seed, cfg.batch, cfg.len), cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("bigram_backcopy: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.len < 2) fail("len must be >= 2");
  if (!(cfg.mix_p >= 0 && cfg.mix_p <= 1)) fail("mix_p must be in [0, 1]");

  std::vector<int64_t> uni;
  std::vector<std::vector<int64_t>> bi;
  if (cfg.corpus.empty()) {
    const TinyShakespeareBigrams& tb = tinyshakespeare_bigrams();
    n_chars_ = TinyShakespeareBigrams::kChars;
    for (int i = 0; i < n_chars_; ++i) chars_.push_back((unsigned char)tb.chars[i]);
    uni.assign(tb.unigram.begin(), tb.unigram.end());
    for (const auto& row : tb.bigram) bi.emplace_back(row.begin(), row.end());
  } else {
    std::string text = read_text_file(cfg.corpus);
    strip_gutenberg(text);
    CharVocab vocab(text);
    n_chars_ = vocab.size();
    chars_ = vocab.chars();
    uni.assign(n_chars_, 0);
    bi.assign(n_chars_, std::vector<int64_t>(n_chars_, 0));
    int prev = -1;
    for (uint32_t cp : utf8_decode(text)) {
      int id = vocab.id_of(cp);
      ++uni[id];
      if (prev >= 0) ++bi[prev][id];
      prev = id;
    }
  }
  if (cfg.triggers < 1 || cfg.triggers >= n_chars_)
    fail("triggers=" + std::to_string(cfg.triggers) + " must be in [1, " +
         std::to_string(n_chars_ - 1) + "] (the corpus has " + std::to_string(n_chars_) +
         " characters)");

  // Triggers: the last k of the ascending sort by unigram frequency (ties by id, stable).
  std::vector<int> order(n_chars_);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return uni[a] < uni[b]; });
  triggers_.assign(order.end() - cfg.triggers, order.end());
  trigger_flag_.assign(n_chars_ + 2, 0);
  for (int t : triggers_) trigger_flag_[t] = 1;

  first_weights_.assign(n_chars_, 0.0);
  for (int i = 0; i < n_chars_; ++i) first_weights_[i] = trigger_flag_[i] ? 0.0 : double(uni[i]);
  bigram_.assign(n_chars_, std::vector<double>(n_chars_, 0.0));
  for (int a = 0; a < n_chars_; ++a) {
    double total = 0;
    for (int b = 0; b < n_chars_; ++b) total += double(bi[a][b]);
    for (int b = 0; b < n_chars_; ++b)
      // A character never followed by anything (only ever last) falls back to the marginal.
      bigram_[a][b] = total > 0 ? double(bi[a][b]) / total : double(uni[b]);
  }
}

bool BigramBackcopyTask::is_trigger(int id) const {
  return id >= 0 && id < int(trigger_flag_.size()) && trigger_flag_[id];
}

void BigramBackcopyTask::generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                                      SampleMeta& meta) {
  const int T = cfg_.len;
  std::vector<int32_t> x(T + 1);
  x[0] = bos_token();
  x[1] = sample_weighted(rng, first_weights_);
  for (int t = 2; t <= T; ++t) {
    const bool copy = is_trigger(x[t - 1]) && (cfg_.mix_p >= 1.0 || rng.uniform() < cfg_.mix_p);
    x[t] = copy ? x[t - 2] : sample_weighted(rng, bigram_[x[t - 1]]);
  }
  for (int t = 0; t < T; ++t) {
    tokens[t] = x[t];
    targets[t] = x[t + 1];
    mask[t] = 1.0f;
    if (is_trigger(x[t])) meta.trigger_positions.push_back(t);
  }
}

std::vector<TaskMetric> BigramBackcopyTask::score_rows(const Batch& batch,
                                                  const std::vector<SampleMeta>& meta,
                                                  const Tensor& logits) const {
  check_logits(batch, logits, vocab_size(), "bigram_backcopy");
  if (int(meta.size()) != batch.B) throw Error("bigram_backcopy: metadata/batch size mismatch");
  const int V = vocab_size(), T = batch.T;
  auto argmax = [&](int b, int t) {
    const float* row = logits.ptr() + (int64_t(b) * T + t) * V;
    return int(std::max_element(row, row + V) - row);
  };
  TaskMetric copy{"backcopy_accuracy", 0, 0}, all{"accuracy", 0, 0};
  double copy_ok = 0, all_ok = 0;
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* tok = batch.tokens.data() + size_t(b) * T;
    for (int t : meta[b].trigger_positions) {
      if (t < 1) continue;
      copy_ok += argmax(b, t) == tok[t - 1];
      ++copy.count;
    }
    for (int t = 0; t < T; ++t) {
      if (batch.mask[size_t(b) * T + t] <= 0) continue;
      all_ok += argmax(b, t) == batch.targets[size_t(b) * T + t];
      ++all.count;
    }
  }
  copy.value = copy.count ? copy_ok / double(copy.count) : 0;
  all.value = all.count ? all_ok / double(all.count) : 0;
  return {copy, all};
}

std::string BigramBackcopyTask::token_text(int id) const {
  if (id == bos_token()) return "<s_0>";
  if (id == delimiter_token()) return "<d>";
  if (id < 0 || id >= n_chars_) return "<" + std::to_string(id) + "?>";
  return utf8_encode(chars_[id]);
}

std::string BigramBackcopyTask::describe() const {
  return "bigram_backcopy(triggers=" + std::to_string(cfg_.triggers) +
         ",len=" + std::to_string(cfg_.len) + ",mix_p=" + format_number(cfg_.mix_p) +
         ",corpus=" + cfg_.corpus + ",batch=" + std::to_string(cfg_.batch) +
         ",seed=" + std::to_string(cfg_.seed) + ")";
}

BigramBackcopyConfig BigramBackcopyTask::config_from(const TaskParams& p) {
  BigramBackcopyConfig c;
  c.triggers = int(p.integer("triggers"));
  c.len = int(p.integer("len"));
  c.mix_p = p.real("mix_p");
  c.corpus = p.str("corpus");
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo BigramBackcopyTask::info() {
  const BigramBackcopyConfig d;
  return TaskInfo{
      "bigram_backcopy",
      "Bigram-Backcopy (Guo et al. 2024): Tiny Shakespeare char bigrams, and after each of the "
      "k most frequent chars the previous char is copied; vocab 65 chars + BOS + delimiter",
      {
          {"triggers", std::to_string(d.triggers), "k most frequent characters that trigger a copy"},
          {"len", std::to_string(d.len), "sequence length (seq_length)"},
          {"mix_p", format_number(d.mix_p), "probability of copying after a trigger (bbm_interpolate)"},
          {"corpus", d.corpus, "text file for the bigram table (empty: embedded Tiny Shakespeare)"},
          {"batch", std::to_string(d.batch), "sequences per batch"},
          {"seed", std::to_string(d.seed), "random seed"},
      },
      [](const TaskParams& p) -> std::unique_ptr<Task> {
        return std::make_unique<BigramBackcopyTask>(config_from(p));
      }};
}

}  // namespace attnlab
