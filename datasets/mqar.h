#pragma once
// Multi-query associative recall, generated exactly as Zoology's multiquery_ar (Arora et al.
// 2023, zoology/data/multiquery_ar.py): a key-value context, then each key queried once at
// power-law distributed gaps; only the query positions are scored.
#include "datasets/task.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

struct MqarConfig {
  int vocab = 8192;       // keys from [1, vocab/2), values from [vocab/2, vocab)
  int len = 64;           // input_seq_len (even)
  int kv = 4;             // num_kv_pairs
  int passes = 1;         // num_passes (JRT repeats of the context)
  double power_a = 0.01;  // gap distribution p(g) ~ g^(power_a - 1), g = 1..space
  // Zoology's generator default is true; its ICLR'24 Figure 2 configs use false (filler 0).
  bool random_non_queries = false;
  int batch = 64;
  uint64_t seed = 0;
};

class MqarTask : public SeededTask {
 public:
  explicit MqarTask(const MqarConfig& cfg);  // throws on impossible parameters
  static TaskInfo info();
  static MqarConfig config_from(const TaskParams& p);

  std::string name() const override { return "mqar"; }
  int vocab_size() const override { return cfg_.vocab; }
  std::string describe() const override;
  // "accuracy": argmax accuracy at the query positions (Zoology's metric).
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                const Tensor& logits) const override;
  const MqarConfig& config() const { return cfg_; }

 protected:
  void generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                    SampleMeta& meta) override;

 private:
  MqarConfig cfg_;
  std::vector<double> gap_weights_;
};

}  // namespace attnlab
