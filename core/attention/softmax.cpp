// Softmax and the variants that only change which scores enter it: sliding window (a mask),
// top-k selection and ALiBi's linear distance bias.
#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

#include "core/attention/score_attention.h"
#include "core/attention/variants.h"

namespace attnlab {

namespace {

class Softmax : public ScoreAttention {
 public:
  using ScoreAttention::ScoreAttention;
  std::string base_spec() const override { return "softmax"; }
  void row_forward(const Row& r, const float* s, float* a, float* sink) const override {
    softmax_row(s, a, r.n, nullptr);
  }
  void row_backward(const Row& r, const float* s, const float* a, const float* da, float* ds,
                    float, float, float*) const override {
    softmax_row_backward(a, da, ds, r.n, 0.0f, 0.0f, nullptr);
  }
};

// Softmax under a leading window mask, spelled "window(size=..,sinks=..)".
class Window : public Softmax {
 public:
  Window(const AttnBuildContext& ctx, MaskSet m) : Softmax(ctx, std::move(m)) {
    masks_in_base_spec_ = 1;
  }
  std::string base_spec() const override { return masks_.rules().front().spec(); }
};

// Keeps the k largest visible scores of each row (ties go to the earlier key) and softmaxes
// them; the selection is treated as constant in backward, as in every top-k attention.
class TopK : public Softmax {
 public:
  TopK(const AttnBuildContext& ctx, MaskSet m, int k) : Softmax(ctx, std::move(m)), k_(k) {}
  std::string base_spec() const override { return "topk(k=" + std::to_string(k_) + ")"; }
  void row_forward(const Row& r, const float* s, float* a, float* sink) const override {
    const int n = r.n;
    if (r.n_vis <= k_) return softmax_row(s, a, n, nullptr);
    std::vector<int> idx;
    idx.reserve(n);
    for (int j = 0; j < n; ++j)
      if (s[j] != -std::numeric_limits<float>::infinity()) idx.push_back(j);
    std::partial_sort(idx.begin(), idx.begin() + k_, idx.end(), [&](int x, int y) {
      return s[x] > s[y] || (s[x] == s[y] && x < y);
    });
    std::vector<float> kept(n, -std::numeric_limits<float>::infinity());
    for (int i = 0; i < k_; ++i) kept[idx[i]] = s[idx[i]];
    softmax_row(kept.data(), a, n, nullptr);
  }

 private:
  int k_;
};

// ALiBi (Press et al. 2022): score += -m_h (t - j), with the paper's geometric head slopes.
class Alibi : public Softmax {
 public:
  Alibi(const AttnBuildContext& ctx, MaskSet m) : Softmax(ctx, std::move(m)) {
    const int H = ctx.n_heads;
    auto pow2_slopes = [](int n) {
      std::vector<double> s(n);
      for (int i = 0; i < n; ++i) s[i] = std::pow(2.0, -8.0 * (i + 1) / n);
      return s;
    };
    int p = 1;
    while (p * 2 <= H) p *= 2;
    std::vector<double> s = pow2_slopes(p);
    if (p < H) {  // non-power-of-two head counts: every other slope of the 2p series
      std::vector<double> extra = pow2_slopes(2 * p);
      for (int i = 0; int(s.size()) < H; i += 2) s.push_back(extra[i]);
    }
    slopes_.assign(s.begin(), s.end());
  }
  std::string base_spec() const override { return "alibi"; }
  void add_bias_row(const std::vector<float>&, const Row& r, float* s) const override {
    for (int j = 0; j < r.n; ++j) s[j] -= slopes_[r.h] * float(r.t - r.keys[j]);
  }
  const std::vector<float>& slopes() const { return slopes_; }

 private:
  std::vector<float> slopes_;
};

}  // namespace

std::unique_ptr<Attention> make_softmax(SpecArgs&, MaskSet m, const AttnBuildContext& ctx) {
  return std::make_unique<Softmax>(ctx, std::move(m));
}

std::unique_ptr<Attention> make_window(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  MaskRule r;
  r.kind = MaskRule::window;
  r.size = a.require_int("size", 1, INT_MAX);
  r.sinks = a.get_int("sinks", 0, 0, INT_MAX);
  MaskSet all;
  all.add(r);
  for (const MaskRule& x : m.rules()) all.add(x);
  return std::make_unique<Window>(ctx, std::move(all));
}

std::unique_ptr<Attention> make_topk(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  int k = a.require_int("k", 1, INT_MAX);
  return std::make_unique<TopK>(ctx, std::move(m), k);
}

std::unique_ptr<Attention> make_alibi(SpecArgs&, MaskSet m, const AttnBuildContext& ctx) {
  return std::make_unique<Alibi>(ctx, std::move(m));
}

}  // namespace attnlab
