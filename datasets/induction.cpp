#include "datasets/induction.h"

#include <algorithm>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/sampling.h"
#include "datasets/task_registry.h"

namespace attnlab {

InductionTask::InductionTask(const InductionConfig& cfg)
    : SeededTask(cfg.seed, cfg.batch, cfg.len > 0 ? cfg.len : cfg.block * cfg.repeats), cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("induction: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.vocab < 2) fail("vocab must be >= 2 (BOS + at least one token)");
  if (cfg.block < 1) fail("block must be >= 1");
  if (cfg.len <= 0 && cfg.repeats < 2) fail("repeats must be >= 2 (nothing repeats otherwise)");
  if (cfg.len > 0 && cfg.len < cfg.block + 2)
    fail("len=" + std::to_string(cfg.len) + " must be >= block + 2 so that the block repeats");
  const int longest = std::max(cfg.block, cfg.block_max);
  if (cfg.distinct && longest > cfg.vocab - 1)
    fail("distinct=true needs block <= vocab - 1 = " + std::to_string(cfg.vocab - 1));
  if (cfg.block_max > 0) {
    if (cfg.block_max < cfg.block)
      fail("block_max=" + std::to_string(cfg.block_max) +
           " must be >= block=" + std::to_string(cfg.block));
    if (cfg.len <= 0)
      fail("block_max needs len > 0 (sequences of a fixed length, periods that vary)");
    if (cfg.len < cfg.block_max + 2)
      fail("len=" + std::to_string(cfg.len) +
           " must be >= block_max + 2 so that every block repeats");
    if (cfg.val_every < 0) fail("val_every must be >= 0");
  }
  periods_ = periods();
  if (periods_.empty())
    fail(std::string(cfg.val_split ? "the val split" : "training") + " has no period in [" +
         std::to_string(cfg.block) + ", " + std::to_string(cfg.block_max) +
         "] with val_every=" + std::to_string(cfg.val_every));
}

std::vector<int> InductionTask::periods() const {
  if (cfg_.block_max <= 0) return {cfg_.block};
  std::vector<int> out;
  for (int p = cfg_.block; p <= cfg_.block_max; ++p) {
    const bool held_out = cfg_.val_every > 0 && (p - cfg_.block + 1) % cfg_.val_every == 0;
    // Without a hold-out both splits draw the whole range.
    if (cfg_.val_every == 0 || held_out == cfg_.val_split) out.push_back(p);
  }
  return out;
}

void InductionTask::generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                                 SampleMeta& meta) {
  const int n = periods_.size() == 1 ? periods_[0] : periods_[rng.below(periods_.size())], T = T_;
  std::vector<int32_t> block(n);
  if (cfg_.distinct) {
    std::vector<int> d = sample_distinct(rng, cfg_.vocab - 1, n);
    for (int i = 0; i < n; ++i) block[i] = d[i] + 1;
  } else {
    for (int i = 0; i < n; ++i) block[i] = int32_t(1 + rng.below(cfg_.vocab - 1));
  }
  // Full sequence: BOS + repeats * block (T + 1 tokens).
  auto at = [&](int s) { return s == 0 ? 0 : block[(s - 1) % n]; };
  for (int t = 0; t < T; ++t) {
    tokens[t] = at(t);
    targets[t] = at(t + 1);
    const bool predictable = t >= n + 1;  // the token at t is in copy 2 or later
    if (predictable) meta.query_positions.push_back(t);
    mask[t] = (!cfg_.mask_repeats || predictable) ? 1.0f : 0.0f;
  }
}

std::vector<TaskMetric> InductionTask::score_rows(const Batch& batch,
                                                  const std::vector<SampleMeta>& meta,
                                                  const Tensor& logits) const {
  check_logits(batch, logits, cfg_.vocab, "induction");
  return {position_accuracy("accuracy", batch, meta, logits, &SampleMeta::query_positions)};
}

std::string InductionTask::token_text(int id) const {
  return id == 0 ? "<bos>" : std::to_string(id);
}

std::string InductionTask::describe() const {
  std::string range = cfg_.block_max > 0 ? ",block_max=" + std::to_string(cfg_.block_max) +
                                               ",val_every=" + std::to_string(cfg_.val_every) +
                                               ",split=" + (cfg_.val_split ? "val" : "train")
                                         : "";
  return "induction(vocab=" + std::to_string(cfg_.vocab) + ",block=" + std::to_string(cfg_.block) +
         range +
         (cfg_.len > 0 ? ",len=" + std::to_string(cfg_.len)
                       : ",repeats=" + std::to_string(cfg_.repeats)) +
         ",distinct=" + (cfg_.distinct ? "true" : "false") +
         ",mask_repeats=" + (cfg_.mask_repeats ? "true" : "false") +
         ",batch=" + std::to_string(cfg_.batch) + ",seed=" + std::to_string(cfg_.seed) + ")";
}

InductionConfig InductionTask::config_from(const TaskParams& p) {
  InductionConfig c;
  c.vocab = int(p.integer("vocab"));
  c.block = int(p.integer("block"));
  c.repeats = int(p.integer("repeats"));
  c.len = int(p.integer("len"));
  c.block_max = int(p.integer("block_max"));
  c.val_every = int(p.integer("val_every"));
  const std::string& split = p.str("split");
  if (split != "train" && split != "val") p.fail("split must be train or val, got '" + split + "'");
  c.val_split = split == "val";
  c.distinct = p.boolean("distinct");
  c.mask_repeats = p.boolean("mask_repeats");
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo InductionTask::info() {
  const InductionConfig d;
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  return TaskInfo{
      "induction",
      "repeated random tokens (Olsson et al. 2022): BOS + a random block repeated; scored on "
      "copies 2.. where induction predicts the next token",
      {
          {"vocab", std::to_string(d.vocab), "vocabulary (0 = BOS, tokens from [1, vocab))"},
          {"block", std::to_string(d.block), "random tokens per block"},
          {"block_max", std::to_string(d.block_max),
           "> block: each sequence's period is drawn from [block, block_max] (needs len)"},
          {"val_every", std::to_string(d.val_every),
           "with block_max: every n-th period is held out of training for the val split (0: none)"},
          {"split", "train", "train | val (the held-out periods; evaluation streams use val)"},
          {"repeats", std::to_string(d.repeats), "copies of the block (len = block * repeats)"},
          {"len", std::to_string(d.len), "> 0: repeat the block up to this length instead"},
          {"distinct", b(d.distinct), "no repeated token inside a block"},
          {"mask_repeats", b(d.mask_repeats), "loss only on copies 2.. (else every position)"},
          {"batch", std::to_string(d.batch), "sequences per batch"},
          {"seed", std::to_string(d.seed), "random seed"},
      },
      [](const TaskParams& p) -> std::unique_ptr<Task> {
        return std::make_unique<InductionTask>(config_from(p));
      }};
}

}  // namespace attnlab
