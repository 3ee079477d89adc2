#pragma once
// A test fixture: BOS x1..xn SEP x1..xn with the loss on the copy only, which a model can only
// predict by attending back across the separator. Kept independent of datasets/ so the core
// tests link against core alone.
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/tensor/rng.h"
#include "core/train/batch.h"

namespace attnlab::test {

// A model preset sized for CopySource(.., n = 8, V = 16, ..): 16 symbols, context 32.
inline ModelConfig copy_model_config(const std::string& preset = "tiny") {
  ModelConfig c = preset_config(preset);
  c.vocab_size = 16;
  c.context = 32;
  return c;
}

class CopySource : public BatchSource {
 public:
  CopySource(int B, int n, int V, uint64_t seed) : B_(B), n_(n), V_(V), seed_(seed) {}
  void next(Batch& b) override {
    Rng rng(seed_ * 1000003 + uint64_t(index_++));
    const int T = 2 * n_ + 1;
    b.resize(B_, T);
    for (int i = 0; i < B_; ++i) {
      std::vector<int32_t> body(size_t(n_), 0);  // BOS = 0, SEP = 1, symbols 2..V-1
      for (int32_t& x : body) x = int32_t(2 + rng.below(V_ - 2));
      std::vector<int32_t> seq{0};
      seq.insert(seq.end(), body.begin(), body.end());
      seq.push_back(1);
      seq.insert(seq.end(), body.begin(), body.end());
      for (int t = 0; t < T; ++t) {
        b.tokens[size_t(i * T + t)] = seq[size_t(t)];
        b.targets[size_t(i * T + t)] = seq[size_t(t + 1)];
        b.mask[size_t(i * T + t)] = t >= n_ + 1 ? 1.0f : 0.0f;
      }
    }
  }
  int vocab_size() const override { return V_; }
  void seek(int64_t i) override { index_ = i; }
  std::string describe() const override { return "copy"; }

 private:
  int B_, n_, V_;
  uint64_t seed_;
  int64_t index_ = 0;
};

}  // namespace attnlab::test
