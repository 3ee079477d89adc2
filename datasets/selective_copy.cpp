#include "datasets/selective_copy.h"

#include <algorithm>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/sampling.h"
#include "datasets/task_registry.h"

namespace attnlab {

SelectiveCopyTask::SelectiveCopyTask(const SelectiveCopyConfig& cfg)
    : SeededTask(cfg.seed, cfg.batch, cfg.region + cfg.n), cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("selective_copy: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.vocab < 3) fail("vocab must be >= 3 (blank, marker and one data token)");
  if (cfg.n < 1) fail("n must be >= 1");
  if (cfg.n > cfg.region)
    fail("n=" + std::to_string(cfg.n) + " data tokens do not fit in region=" +
         std::to_string(cfg.region));
}

void SelectiveCopyTask::generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                                     SampleMeta& meta) {
  const int R = cfg_.region, n = cfg_.n;
  std::vector<int> where = sample_distinct(rng, R, n);
  std::sort(where.begin(), where.end());
  std::vector<int32_t> data(n);
  for (int i = 0; i < n; ++i) data[i] = int32_t(2 + rng.below(cfg_.vocab - 2));
  std::vector<int32_t> s(R + n, 0);
  for (int i = 0; i < n; ++i) s[where[i]] = data[i];
  for (int i = 0; i < n; ++i) s[R + i] = 1;
  for (int t = 0; t < T_; ++t) {
    tokens[t] = s[t];
    if (t >= R) {  // the i-th marker outputs the i-th data token
      targets[t] = data[t - R];
      mask[t] = 1.0f;
      meta.query_positions.push_back(t);
    } else {
      targets[t] = s[t + 1];
    }
  }
}

std::vector<TaskMetric> SelectiveCopyTask::score_rows(const Batch& batch,
                                                 const std::vector<SampleMeta>& meta,
                                                 const Tensor& logits) const {
  check_logits(batch, logits, cfg_.vocab, "selective_copy");
  return {position_accuracy("accuracy", batch, meta, logits, &SampleMeta::query_positions),
          sequence_accuracy("sequence_accuracy", batch, meta, logits, &SampleMeta::query_positions)};
}

std::string SelectiveCopyTask::token_text(int id) const {
  return id == 0 ? "." : id == 1 ? "<m>" : std::to_string(id);
}

std::string SelectiveCopyTask::describe() const {
  return "selective_copy(vocab=" + std::to_string(cfg_.vocab) +
         ",region=" + std::to_string(cfg_.region) + ",n=" + std::to_string(cfg_.n) +
         ",batch=" + std::to_string(cfg_.batch) + ",seed=" + std::to_string(cfg_.seed) + ")";
}

SelectiveCopyConfig SelectiveCopyTask::config_from(const TaskParams& p) {
  SelectiveCopyConfig c;
  c.vocab = int(p.integer("vocab"));
  c.region = int(p.integer("region"));
  c.n = int(p.integer("n"));
  if (int64_t len = p.integer("len"); len > 0) c.region = int(len - c.n);
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo SelectiveCopyTask::info() {
  const SelectiveCopyConfig d;
  return TaskInfo{
      "selective_copy",
      "selective copying (Gu & Dao 2023, Mamba): n data tokens scattered among blanks, then n "
      "markers that must output them in order",
      {
          {"vocab", std::to_string(d.vocab), "vocabulary (0 = blank, 1 = marker, data [2, vocab))"},
          {"region", std::to_string(d.region), "positions the data is scattered over"},
          {"n", std::to_string(d.n), "data tokens (len = region + n)"},
          {"len", "0", "> 0: sequence length, sets region = len - n"},
          {"batch", std::to_string(d.batch), "sequences per batch"},
          {"seed", std::to_string(d.seed), "random seed"},
      },
      [](const TaskParams& p) -> std::unique_ptr<Task> {
        return std::make_unique<SelectiveCopyTask>(config_from(p));
      }};
}

}  // namespace attnlab
