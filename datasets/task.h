#pragma once
// A synthetic task or text stream: a BatchSource that also says what each sample contains
// (the metadata probes need), how to score a model on it, and how to print its tokens.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "core/train/batch.h"

namespace attnlab {

// Half-open range of positions [begin, end) in one sequence; empty when begin < 0.
struct Span {
  int begin = -1, end = -1;
  bool empty() const { return begin < 0 || end <= begin; }
  int size() const { return empty() ? 0 : end - begin; }
  bool contains(int t) const { return !empty() && t >= begin && t < end; }
};

// What one sequence of the last batch holds. Positions index Batch::tokens[b * T + t]; the
// target of position t is Batch::targets[b * T + t] (the token at t + 1 for LM tasks).
struct SampleMeta {
  // Positions the task's metric scores: MQAR query keys, copy outputs, needle question and
  // answer tokens, induction repeats, selective-copy markers, regression x positions.
  std::vector<int> query_positions;
  // Bigram-Backcopy: positions holding a trigger token (their target is the token at t - 1).
  std::vector<int> trigger_positions;
  // Needle: all needle tokens (marker, key, value) and, inside it, the value tokens that the
  // answer copies (the span the retrieval score of Wu et al. counts).
  Span needle;
  Span needle_value;
  float depth = -1.0f;  // needle: depth used, fraction of the haystack before the needle
  // MQAR: the key-value context at the start of the sequence.
  Span context;
};

// One number a task reports for a model's output on a batch.
struct TaskMetric {
  std::string name;   // e.g. "accuracy", "backcopy_accuracy", "squared_error"
  double value = 0;
  int64_t count = 0;  // positions (or sequences) it averages over
};

class Task : public BatchSource {
 public:
  virtual std::string name() const = 0;
  virtual int batch_size() const = 0;
  virtual int seq_len() const = 0;
  // The id every sequence starts with (a BOS the model learns to expect), or -1. Saved with the
  // model so that probes prepend it as training did.
  virtual int bos_token() const { return -1; }
  // Metadata of the sequences of the last next(), one entry per batch row.
  const std::vector<SampleMeta>& meta() const { return meta_; }

  // Scores a model's output on the last batch this task produced. Token tasks take logits
  // [B, T, vocab]; continuous tasks (linear regression) take predictions [B, T]. The first
  // metric is the task's headline number. Throws on a shape mismatch.
  std::vector<TaskMetric> score(const Batch& batch, const Tensor& output) const {
    return score_rows(batch, meta_, output);
  }
  // The same for any batch of this task, given that batch's metadata (a copy of meta()).
  virtual std::vector<TaskMetric> score_rows(const Batch& batch,
                                             const std::vector<SampleMeta>& meta,
                                             const Tensor& output) const = 0;

  // Human-readable form of a token id for `attnlab sample` and the GUI.
  virtual std::string token_text(int id) const;
  // True when tokens are pieces of text (characters, bytes, BPE pieces) that read best joined
  // without separators.
  virtual bool text_tokens() const { return false; }

 protected:
  std::vector<SampleMeta> meta_;
};

// Argmax accuracy of logits [B, T, V] over the given positions of each row (helper for tasks).
TaskMetric position_accuracy(const std::string& name, const Batch& batch,
                             const std::vector<SampleMeta>& meta, const Tensor& logits,
                             std::vector<int> SampleMeta::*positions);
// Fraction of rows whose every listed position is predicted exactly.
TaskMetric sequence_accuracy(const std::string& name, const Batch& batch,
                             const std::vector<SampleMeta>& meta, const Tensor& logits,
                             std::vector<int> SampleMeta::*positions);
// Throws attnlab::Error unless logits is [B, T, vocab] for this batch.
void check_logits(const Batch& batch, const Tensor& logits, int vocab, const std::string& task);

// The random stream for batch `index` of a task seeded with `seed`: batches are independent,
// so seek() is free and a resumed run sees exactly the same data.
uint64_t batch_seed(uint64_t seed, int64_t index);

}  // namespace attnlab

namespace attnlab {

class Rng;

// Base of the generated tasks: a fixed [batch, len] shape, a seed, and one independent random
// stream per batch index. Subclasses fill one row at a time.
class SeededTask : public Task {
 public:
  SeededTask(uint64_t seed, int batch, int len) : seed_(seed), B_(batch), T_(len) {}
  void next(Batch& batch) override;
  void seek(int64_t batch_index) override { index_ = batch_index; }
  int batch_size() const override { return B_; }
  int seq_len() const override { return T_; }
  uint64_t seed() const { return seed_; }

 protected:
  // tokens/targets/mask point at row b (length T, mask preset to 0); fill them and `meta`.
  virtual void generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                            SampleMeta& meta) = 0;
  uint64_t seed_;
  int B_, T_;
  int64_t index_ = 0;
};

}  // namespace attnlab
