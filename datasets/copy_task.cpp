#include "datasets/copy_task.h"

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/task_registry.h"

namespace attnlab {

CopyTask::CopyTask(const CopyConfig& cfg) : SeededTask(cfg.seed, cfg.batch, 2 * cfg.n + 1), cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("copy: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.vocab < 3) fail("vocab must be >= 3 (BOS, SEP and one data token)");
  if (cfg.n < 1) fail("n must be >= 1");
}

void CopyTask::generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                            SampleMeta& meta) {
  const int n = cfg_.n;
  std::vector<int32_t> s(2 * n + 2);
  s[0] = 0;
  for (int i = 0; i < n; ++i) s[1 + i] = int32_t(2 + rng.below(cfg_.vocab - 2));
  s[n + 1] = 1;
  for (int i = 0; i < n; ++i) s[n + 2 + i] = s[1 + i];
  for (int t = 0; t < T_; ++t) {
    tokens[t] = s[t];
    targets[t] = s[t + 1];
    if (t >= n + 1) {  // SEP and the copy so far predict the next copied token
      mask[t] = 1.0f;
      meta.query_positions.push_back(t);
    }
  }
}

std::vector<TaskMetric> CopyTask::score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                        const Tensor& logits) const {
  check_logits(batch, logits, cfg_.vocab, "copy");
  return {position_accuracy("accuracy", batch, meta, logits, &SampleMeta::query_positions),
          sequence_accuracy("sequence_accuracy", batch, meta, logits, &SampleMeta::query_positions)};
}

std::string CopyTask::token_text(int id) const {
  return id == 0 ? "<bos>" : id == 1 ? "<sep>" : std::to_string(id);
}

std::string CopyTask::describe() const {
  return "copy(vocab=" + std::to_string(cfg_.vocab) + ",n=" + std::to_string(cfg_.n) +
         ",batch=" + std::to_string(cfg_.batch) + ",seed=" + std::to_string(cfg_.seed) + ")";
}

CopyConfig CopyTask::config_from(const TaskParams& p) {
  CopyConfig c;
  c.vocab = int(p.integer("vocab"));
  c.n = int(p.integer("n"));
  if (int64_t len = p.integer("len"); len > 0) {
    if (len % 2 == 0 || len < 3) p.fail("len=" + std::to_string(len) + " must be odd and >= 3 (len = 2n + 1)");
    c.n = int((len - 1) / 2);
  }
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo CopyTask::info() {
  const CopyConfig d;
  return TaskInfo{"copy",
                  "copying: BOS d_1..d_n SEP d_1..d_n; scored on the copy",
                  {
                      {"vocab", std::to_string(d.vocab), "vocabulary (0 = BOS, 1 = SEP, data [2, vocab))"},
                      {"n", std::to_string(d.n), "tokens to copy (len = 2n + 1)"},
                      {"len", "0", "> 0: sequence length, sets n = (len - 1) / 2"},
                      {"batch", std::to_string(d.batch), "sequences per batch"},
                      {"seed", std::to_string(d.seed), "random seed"},
                  },
                  [](const TaskParams& p) -> std::unique_ptr<Task> {
                    return std::make_unique<CopyTask>(config_from(p));
                  }};
}

}  // namespace attnlab
