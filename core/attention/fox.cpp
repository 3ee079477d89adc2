// Forgetting Transformer (FoX, Lin et al. 2025): softmax(s_tj + sum_{i=j+1..t} log f_i) with a
// per-head forget gate f_t = sigmoid(w_h . x_t + b_h) read from the block's normalized input x.
// Parameters: forget.weight [H, D] ~ N(0, 0.02^2) and forget.bias [H] = 0 (so f starts near 1/2).
#include <cmath>

#include "core/attention/score_attention.h"
#include "core/attention/variants.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

namespace {

float log_sigmoid(float z) {
  return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z));
}
float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

class Fox : public ScoreAttention {
 public:
  Fox(const AttnBuildContext& ctx, MaskSet m)
      : ScoreAttention(ctx, std::move(m)),
        w_({ctx.n_heads, ctx.d_model}),
        dw_({ctx.n_heads, ctx.d_model}),
        bias_({ctx.n_heads}),
        dbias_({ctx.n_heads}) {}
  std::string base_spec() const override { return "fox"; }
  bool reads_input() const override { return true; }
  std::vector<Param> params() override {
    return {{"forget.weight", &w_, &dw_, true}, {"forget.bias", &bias_, &dbias_, false}};
  }
  void init_params(Rng& rng) override {
    for (float& x : w_.data) x = float(rng.normal() * 0.02);
    bias_.zero();
  }

 protected:
  float gate_logit(const float* x, int h) const {
    const int D = ctx_.d_model;
    float z = bias_.data[h];
    for (int c = 0; c < D; ++c) z += w_.data[size_t(h) * D + c] * x[c];
    return z;
  }
  float gate_logit(const AttnInputs& in, int b, int t, int h) const {
    return gate_logit(in.x + (int64_t(b) * in.shape.T + t) * ctx_.d_model, h);
  }
  // c[b, h, t] = sum_{i <= t} log f_i.
  std::vector<float> prepare(const AttnInputs& in) const override {
    if (!in.x) throw Error("attention fox: needs the block input x");
    const int B = in.shape.B, H = in.shape.H, T = in.shape.T;
    std::vector<float> c(size_t(B) * H * T);
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        double run = 0.0;
        for (int t = 0; t < T; ++t) {
          run += log_sigmoid(gate_logit(in, b, t, h));
          c[(size_t(b) * H + h) * T + t] = float(run);
        }
      }
    return c;
  }
  // *in.state holds the running sums c [B, H, max_positions] (double, as prepare() accumulates)
  // of the cached positions; the new ones extend it.
  std::vector<float> prepare_cached(const CachedAttnInputs& in) const override {
    if (!in.x || !in.state) throw Error("attention fox: cached decoding needs x and a state");
    const int B = in.B, H = in.H, T = in.T, cap = in.max_positions;
    std::vector<double>& st = *in.state;
    if (st.size() != size_t(B) * H * cap) {
      if (in.first != 0) throw Error("attention fox: the cached decoding state was lost");
      st.assign(size_t(B) * H * cap, 0.0);
    }
    std::vector<float> c(size_t(B) * H * T);
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        double* run = st.data() + (size_t(b) * H + h) * cap;
        for (int t = in.first; t < T; ++t) {
          const float* x = in.x + (int64_t(b) * in.n_new() + (t - in.first)) * ctx_.d_model;
          run[t] = (t > 0 ? run[t - 1] : 0.0) + log_sigmoid(gate_logit(x, h));
        }
        float* cb = c.data() + (size_t(b) * H + h) * T;
        for (int t = 0; t < T; ++t) cb[t] = float(run[t]);
      }
    return c;
  }
  void add_bias_row(const std::vector<float>& c, const Row& r, float* s) const override {
    const float* cb = c.data() + (size_t(r.b) * ctx_.n_heads + r.h) * r.T;
    for (int j = 0; j < r.n; ++j) s[j] += cb[r.t] - cb[r.keys[j]];
  }
  size_t n_acc(const AttnShape& s) const override { return size_t(s.T); }
  void bias_backward_row(const std::vector<float>&, const Row& r, const float* ds,
                         double* dc) const override {
    for (int j = 0; j < r.n; ++j) {
      dc[r.t] += ds[j];
      dc[r.keys[j]] -= ds[j];
    }
  }
  void row_forward(const Row& r, const float* s, float* a, float*) const override {
    softmax_row(s, a, r.n, nullptr);
  }
  void row_backward(const Row& r, const float*, const float* a, const float* da, float* ds, float,
                    float, float*) const override {
    softmax_row_backward(a, da, ds, r.n, 0.0f, 0.0f, nullptr);
  }
  void finish_backward(const AttnInputs& in, const AttnGrads& g,
                       const std::vector<double>& acc) override {
    const int B = in.shape.B, H = in.shape.H, T = in.shape.T, D = ctx_.d_model;
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        const double* dc = acc.data() + (size_t(b) * H + h) * T;
        double dlogf = 0.0;  // d/d(log f_i) = sum_{t >= i} dc_t
        for (int i = T - 1; i >= 0; --i) {
          dlogf += dc[i];
          float dz = float(dlogf) * (1.0f - sigmoid(gate_logit(in, b, i, h)));
          const float* x = in.x + (int64_t(b) * T + i) * D;
          for (int c = 0; c < D; ++c) {
            dw_.data[size_t(h) * D + c] += dz * x[c];
            if (g.dx) g.dx[(int64_t(b) * T + i) * D + c] += dz * w_.data[size_t(h) * D + c];
          }
          dbias_.data[h] += dz;
        }
      }
  }

 private:
  Tensor w_, dw_, bias_, dbias_;
};

}  // namespace

std::unique_ptr<Attention> make_fox(SpecArgs&, MaskSet m, const AttnBuildContext& ctx) {
  return std::make_unique<Fox>(ctx, std::move(m));
}

}  // namespace attnlab
