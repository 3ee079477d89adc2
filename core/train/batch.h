#pragma once
// One training or evaluation batch, as every task and corpus produces it.
#include <cstdint>
#include <string>
#include <vector>

namespace attnlab {

struct Batch {
  int B = 0, T = 0;
  std::vector<int32_t> tokens;   // [B, T] inputs
  std::vector<int32_t> targets;  // [B, T] next-token targets
  std::vector<float> mask;       // [B, T] loss weight per position (0 = not scored)
  // Continuous tasks (in-context regression): inputs [B, T, in_dim] read in by a linear layer,
  // and scalar targets [B, T]; tokens are then unused.
  int in_dim = 0;
  std::vector<float> features;
  std::vector<float> float_targets;

  void resize(int B_, int T_) {
    B = B_;
    T = T_;
    tokens.assign(size_t(B) * T, 0);
    targets.assign(size_t(B) * T, 0);
    mask.assign(size_t(B) * T, 1.0f);
  }
};

// A deterministic stream of batches. Tasks and corpora implement it; the trainer pulls from it.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual void next(Batch& batch) = 0;
  virtual int vocab_size() const = 0;
  // Restarts the stream at a given batch index so a resumed run sees exactly the same data.
  virtual void seek(int64_t batch_index) = 0;
  virtual std::string describe() const = 0;
};

}  // namespace attnlab
