#include "datasets/mqar.h"

#include <algorithm>
#include <cmath>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/sampling.h"
#include "datasets/task_registry.h"

namespace attnlab {

MqarTask::MqarTask(const MqarConfig& cfg) : SeededTask(cfg.seed, cfg.batch, cfg.len), cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("mqar: " + m); };
  const int L = cfg.len, V = cfg.vocab, n = cfg.kv;
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (L < 2 || L % 2 != 0) fail("len=" + std::to_string(L) + " must be even and >= 2");
  if (n < 1) fail("kv must be >= 1");
  if (cfg.passes < 1) fail("passes must be >= 1");
  if (V <= L)
    fail("vocab=" + std::to_string(V) + " must exceed len=" + std::to_string(L) +
         " (Zoology asserts vocab_size > input_seq_len)");
  const int64_t needed = int64_t(2) * n * cfg.passes + int64_t(2) * n;
  if (needed > L)
    fail("2*kv*passes + 2*kv = " + std::to_string(needed) + " exceeds len=" + std::to_string(L) +
         " (with passes=1: 4*kv <= len)");
  if (n > V / 2 - 1)
    fail("kv=" + std::to_string(n) + " distinct keys do not fit in [1, vocab/2)");
  if (!(cfg.power_a > 0)) fail("power_a must be > 0");
  const int space = (L - 2 * n * cfg.passes) / 2;
  gap_weights_.resize(space);
  for (int g = 0; g < space; ++g) gap_weights_[g] = std::pow(double(g + 1), cfg.power_a - 1.0);
}

void MqarTask::generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                            SampleMeta& meta) {
  const int L = cfg_.len, V = cfg_.vocab, n = cfg_.kv;
  const int half = V / 2;
  const int ctx = 2 * n * cfg_.passes;
  std::vector<int> keys = sample_distinct(rng, half - 1, n);
  for (int& k : keys) k += 1;
  std::vector<int> values = sample_distinct(rng, V - half, n);
  for (int& v : values) v += half;

  // The full example has len + 1 tokens; inputs drop the last, labels drop the first.
  std::vector<int32_t> seq(L + 1, 0);
  for (int p = 0; p < cfg_.passes; ++p)
    for (int i = 0; i < n; ++i) {
      seq[p * 2 * n + 2 * i] = keys[i];
      seq[p * 2 * n + 2 * i + 1] = values[i];
    }
  std::vector<int> gaps = sample_weighted_distinct(rng, gap_weights_, n);
  std::vector<int> label_at(L, -1);
  for (int i = 0; i < n; ++i) {
    const int q = ctx + 2 * gaps[i];
    seq[q] = keys[i];
    label_at[q] = values[i];
  }
  if (cfg_.random_non_queries)
    for (int t = 0; t <= L; ++t)
      if (seq[t] == 0) seq[t] = int32_t(rng.below(V));

  for (int t = 0; t < L; ++t) {
    tokens[t] = seq[t];
    targets[t] = label_at[t] >= 0 ? label_at[t] : seq[t + 1];
    if (label_at[t] >= 0) {
      mask[t] = 1.0f;
      meta.query_positions.push_back(t);
    }
  }
  meta.context = Span{0, ctx};
}

std::vector<TaskMetric> MqarTask::score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                        const Tensor& logits) const {
  check_logits(batch, logits, cfg_.vocab, "mqar");
  return {position_accuracy("accuracy", batch, meta, logits, &SampleMeta::query_positions)};
}

std::string MqarTask::describe() const {
  return "mqar(vocab=" + std::to_string(cfg_.vocab) + ",len=" + std::to_string(cfg_.len) +
         ",kv=" + std::to_string(cfg_.kv) + ",passes=" + std::to_string(cfg_.passes) +
         ",power_a=" + format_number(cfg_.power_a) +
         ",random_non_queries=" + (cfg_.random_non_queries ? "true" : "false") +
         ",batch=" + std::to_string(cfg_.batch) + ",seed=" + std::to_string(cfg_.seed) + ")";
}

MqarConfig MqarTask::config_from(const TaskParams& p) {
  MqarConfig c;
  c.vocab = int(p.integer("vocab"));
  c.len = int(p.integer("len"));
  c.kv = int(p.integer("kv"));
  c.passes = int(p.integer("passes"));
  c.power_a = p.real("power_a");
  c.random_non_queries = p.boolean("random_non_queries");
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo MqarTask::info() {
  const MqarConfig d;
  return TaskInfo{
      "mqar",
      "multi-query associative recall (Zoology, Arora et al. 2023): keys in [1,V/2), values in "
      "[V/2,V), power-law query gaps; scored at the queries",
      {
          {"vocab", std::to_string(d.vocab), "vocabulary size V (> len)"},
          {"len", std::to_string(d.len), "sequence length L (even)"},
          {"kv", std::to_string(d.kv), "key-value pairs per sequence (4*kv <= L)"},
          {"passes", std::to_string(d.passes), "times the context is repeated (JRT)"},
          {"power_a", format_number(d.power_a), "query gaps p(g) ~ g^(a-1); 1 = uniform"},
          {"random_non_queries", d.random_non_queries ? "true" : "false",
           "fill non-query slots with random tokens instead of 0"},
          {"batch", std::to_string(d.batch), "sequences per batch"},
          {"seed", std::to_string(d.seed), "random seed"},
      },
      [](const TaskParams& p) -> std::unique_ptr<Task> {
        return std::make_unique<MqarTask>(config_from(p));
      }};
}

}  // namespace attnlab
