#pragma once
// Repeated random token blocks: BOS, then one random block repeated (Olsson et al. 2022; the
// TransformerLens induction loss uses two copies, the Anthropic prefix-matching probe 25 tokens
// x 4). From the second copy on, each next token is predictable by an induction head.
#include "datasets/task.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

struct InductionConfig {
  int vocab = 64;   // token 0 is BOS; block tokens are uniform in [1, vocab)
  int block = 25;   // random tokens per block
  int repeats = 4;  // copies of the block; len = block * repeats
  int len = 0;      // > 0: the block repeats until len tokens (overrides repeats)
  // > block: each sequence draws its period from [block, block_max], so that no fixed offset
  // (t - block + 1, reachable by position alone under RoPE) solves the task; needs len > 0.
  int block_max = 0;
  // With block_max: every val_every-th period of the range (block + val_every - 1, ...) is held
  // out of training and is the only one the "val" split draws, so evaluation sees unseen periods.
  int val_every = 4;
  bool val_split = false;     // split=val: the held-out periods
  bool distinct = false;      // draw each block's tokens without replacement
  bool mask_repeats = false;  // train only on the predictable positions (else on all)
  int batch = 32;
  uint64_t seed = 0;
};

class InductionTask : public SeededTask {
 public:
  explicit InductionTask(const InductionConfig& cfg);
  static TaskInfo info();
  static InductionConfig config_from(const TaskParams& p);

  std::string name() const override { return "induction"; }
  int bos_token() const override { return 0; }
  int vocab_size() const override { return cfg_.vocab; }
  std::string describe() const override;
  // "accuracy": argmax accuracy at the query positions (tokens of copies 2, 3, ...).
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                     const Tensor& logits) const override;
  std::string token_text(int id) const override;

 protected:
  void generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                    SampleMeta& meta) override;

 private:
  // The periods this split draws from.
  std::vector<int> periods() const;

  InductionConfig cfg_;
  std::vector<int> periods_;
};

}  // namespace attnlab
