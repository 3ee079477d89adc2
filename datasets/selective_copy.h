#pragma once
// Selective copying (Gu & Dao 2023, Mamba, section 3.1 / App. E.1): n data tokens scattered at
// random positions among blank (noise) tokens, then n marker tokens; at the markers the model
// outputs the data tokens in order. Unlike plain copying the spacing varies, so the model must
// select by content.
#include "datasets/task.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

struct SelectiveCopyConfig {
  int vocab = 18;  // 0 = blank, 1 = marker, data tokens uniform in [2, vocab) (16 by default)
  int region = 64; // positions the data is scattered over (Mamba: 4096)
  int n = 16;      // data tokens to copy; len = region + n
  int batch = 32;
  uint64_t seed = 0;
};

class SelectiveCopyTask : public SeededTask {
 public:
  explicit SelectiveCopyTask(const SelectiveCopyConfig& cfg);
  static TaskInfo info();
  static SelectiveCopyConfig config_from(const TaskParams& p);

  std::string name() const override { return "selective_copy"; }
  int vocab_size() const override { return cfg_.vocab; }
  std::string describe() const override;
  // "accuracy" per output token and "sequence_accuracy" (all n right).
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                const Tensor& logits) const override;
  std::string token_text(int id) const override;

 protected:
  void generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                    SampleMeta& meta) override;

 private:
  SelectiveCopyConfig cfg_;
};

}  // namespace attnlab
