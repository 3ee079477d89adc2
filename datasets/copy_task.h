#pragma once
// Plain copying: BOS d_1..d_n SEP d_1..d_n. After SEP the model must reproduce the data in
// order; only the copy is scored.
#include "datasets/task.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

struct CopyConfig {
  int vocab = 32;  // 0 = BOS, 1 = SEP, data tokens uniform in [2, vocab)
  int n = 16;      // data tokens; len = 2 * n + 1
  int batch = 32;
  uint64_t seed = 0;
};

class CopyTask : public SeededTask {
 public:
  explicit CopyTask(const CopyConfig& cfg);
  static TaskInfo info();
  static CopyConfig config_from(const TaskParams& p);

  std::string name() const override { return "copy"; }
  int bos_token() const override { return 0; }
  int vocab_size() const override { return cfg_.vocab; }
  std::string describe() const override;
  // "accuracy" per copied token and "sequence_accuracy" (every token of the copy right).
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                const Tensor& logits) const override;
  std::string token_text(int id) const override;

 protected:
  void generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                    SampleMeta& meta) override;

 private:
  CopyConfig cfg_;
};

}  // namespace attnlab
