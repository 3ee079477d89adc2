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
  // out[b, h, t] = sum_j maps[h][t][j] v[b, h, j] (layout [B, H, T, Dh]): a model built with this
  // variant runs, so sparse replacement can be measured at the loss.
  void forward(const AttnInputs& in, float* out) override {
    const AttnShape& s = in.shape;
    if (s.T != T_) throw Error("FixedPattern: built for T = " + std::to_string(T_));
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h) {
        const int64_t off = (int64_t(b) * s.H + h) * s.head_size();
        const float* v = in.v + off;
        float* o = out + off;
        for (int t = 0; t < T_; ++t)
          for (int d = 0; d < s.Dh; ++d) {
            float acc = 0;
            for (int j = 0; j <= t; ++j) acc += maps_[size_t(h)][size_t(t) * T_ + j] * v[int64_t(j) * s.Dh + d];
            o[int64_t(t) * s.Dh + d] = acc;
          }
      }
  }
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
