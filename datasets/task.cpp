#include "datasets/task.h"

#include <algorithm>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

std::string Task::token_text(int id) const { return std::to_string(id); }

uint64_t batch_seed(uint64_t seed, int64_t index) {
  // splitmix64 finaliser over (seed, index) so neighbouring indices give unrelated streams.
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + uint64_t(index) * 0xD1B54A32D192ED03ull + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void check_logits(const Batch& batch, const Tensor& logits, int vocab, const std::string& task) {
  if (logits.rank() != 3 || logits.dim(0) != batch.B || logits.dim(1) != batch.T ||
      logits.dim(2) != vocab)
    throw Error(task + ": expected logits [" + std::to_string(batch.B) + ", " +
                std::to_string(batch.T) + ", " + std::to_string(vocab) + "], got " +
                logits.shape_str());
}

namespace {

int argmax_at(const Tensor& logits, int b, int t) {
  const int64_t V = logits.dim(2);
  const float* row = logits.ptr() + (int64_t(b) * logits.dim(1) + t) * V;
  int best = 0;
  for (int64_t v = 1; v < V; ++v)
    if (row[v] > row[best]) best = int(v);
  return best;
}

void check_meta(const Batch& batch, const std::vector<SampleMeta>& meta) {
  if (int(meta.size()) != batch.B)
    throw Error("task metric: metadata has " + std::to_string(meta.size()) + " rows, batch has " +
                std::to_string(batch.B));
}

}  // namespace

TaskMetric position_accuracy(const std::string& name, const Batch& batch,
                             const std::vector<SampleMeta>& meta, const Tensor& logits,
                             std::vector<int> SampleMeta::*positions) {
  check_meta(batch, meta);
  TaskMetric m{name, 0.0, 0};
  int64_t correct = 0;
  for (int b = 0; b < batch.B; ++b)
    for (int t : meta[b].*positions) {
      correct += argmax_at(logits, b, t) == batch.targets[size_t(b) * batch.T + t];
      ++m.count;
    }
  m.value = m.count ? double(correct) / double(m.count) : 0.0;
  return m;
}

TaskMetric sequence_accuracy(const std::string& name, const Batch& batch,
                             const std::vector<SampleMeta>& meta, const Tensor& logits,
                             std::vector<int> SampleMeta::*positions) {
  check_meta(batch, meta);
  TaskMetric m{name, 0.0, batch.B};
  int64_t correct = 0;
  for (int b = 0; b < batch.B; ++b) {
    bool all = true;
    for (int t : meta[b].*positions)
      all = all && argmax_at(logits, b, t) == batch.targets[size_t(b) * batch.T + t];
    correct += all;
  }
  m.value = batch.B ? double(correct) / batch.B : 0.0;
  return m;
}

void SeededTask::next(Batch& batch) {
  Rng rng(batch_seed(seed_, index_++));
  batch.resize(B_, T_);
  batch.in_dim = 0;
  batch.features.clear();
  batch.float_targets.clear();
  std::fill(batch.mask.begin(), batch.mask.end(), 0.0f);
  meta_.assign(B_, SampleMeta{});
  for (int b = 0; b < B_; ++b) {
    size_t off = size_t(b) * T_;
    generate_row(rng, batch.tokens.data() + off, batch.targets.data() + off,
                 batch.mask.data() + off, meta_[b]);
  }
}

}  // namespace attnlab
