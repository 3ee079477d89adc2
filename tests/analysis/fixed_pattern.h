#pragma once
// A stand-in attention variant that serves hand-built matrices through pattern(), so the
// analysis observer can be tested on known answers without a model.
#include <string>
#include <vector>

#include "core/attention/attention.h"
#include "core/tensor/error.h"

namespace attnlab::test {

class FixedPattern : public Attention {
 public:
  // maps[h] is a T x T row-major matrix (only j <= t is read).
  FixedPattern(std::vector<std::vector<float>> maps, int T, std::string spec = "fixed",
               bool normalized = true)
      : maps_(std::move(maps)), T_(T), spec_(std::move(spec)), normalized_(normalized) {}
  std::string spec() const override { return spec_; }
  void forward(const AttnInputs&, float*) override { throw Error("FixedPattern: no forward"); }
  void backward(const AttnInputs&, const float*, const AttnGrads&) override {
    throw Error("FixedPattern: no backward");
  }
  void pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const override {
    for (int t = 0; t < T_; ++t) visit(t, maps_[size_t(h)].data() + size_t(t) * T_);
  }
  bool normalized_rows() const override { return normalized_; }

 private:
  std::vector<std::vector<float>> maps_;
  int T_;
  std::string spec_;
  bool normalized_;
};

// Row-builders for the known-answer tests.
inline std::vector<float> uniform_causal(int T) {
  std::vector<float> m(size_t(T) * T, 0.0f);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j <= t; ++j) m[size_t(t) * T + j] = 1.0f / float(t + 1);
  return m;
}
// Row t puts all its mass on key target(t).
template <class F>
std::vector<float> one_hot_rows(int T, F target) {
  std::vector<float> m(size_t(T) * T, 0.0f);
  for (int t = 0; t < T; ++t) m[size_t(t) * T + target(t)] = 1.0f;
  return m;
}

}  // namespace attnlab::test
