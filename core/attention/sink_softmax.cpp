// Softmax with one extra key slot that every query sees: softmax1 (a virtual key with logit 0
// and value 0, E. Miller 2023), sink_logit (a learnable per-head logit, gpt-oss style) and
// kv_bias (a learnable per-head key k' and value v', Sun et al. 2024; v' = 0 as in Gu et al.'s
// "K biases"). Rows over the real keys sum to less than 1: the slot holds the rest.
#include <cmath>

#include "core/attention/score_attention.h"
#include "core/attention/variants.h"
#include "core/tensor/rng.h"

namespace attnlab {

namespace {

class SinkSoftmax : public ScoreAttention {
 public:
  using ScoreAttention::ScoreAttention;
  bool normalized_rows() const override { return false; }

 protected:
  bool has_sink() const override { return true; }
  void row_forward(const Row& r, const float* s, float* a, float* sink) const override {
    softmax_row(s, a, r.n, sink);
  }
  void row_backward(const Row& r, const float* s, const float* a, const float* da, float* ds,
                    float sink_a, float da_sink, float* ds_sink) const override {
    softmax_row_backward(a, da, ds, r.n, sink_a, da_sink, ds_sink);
  }
};

class Softmax1 : public SinkSoftmax {
 public:
  using SinkSoftmax::SinkSoftmax;
  std::string base_spec() const override { return "softmax1"; }
};

class SinkLogit : public SinkSoftmax {
 public:
  SinkLogit(const AttnBuildContext& ctx, MaskSet m)
      : SinkSoftmax(ctx, std::move(m)), sink_({ctx.n_heads}), grad_({ctx.n_heads}) {}
  std::string base_spec() const override { return "sink_logit"; }
  std::vector<Param> params() override { return {{"sink", &sink_, &grad_, false}}; }
  void init_params(Rng&) override { sink_.zero(); }  // starts as softmax1

 protected:
  float sink_logit(const AttnInputs&, int, int h, int) const override { return sink_.data[h]; }
  size_t n_acc(const AttnShape&) const override { return 1; }
  void sink_backward(const AttnInputs& in, int, int, const float* ds_sink, const float*,
                     const float*, float*, double* acc) const override {
    for (int t = 0; t < in.shape.T; ++t) acc[0] += ds_sink[t];
  }
  void finish_backward(const AttnInputs& in, const AttnGrads&, const std::vector<double>& acc) override {
    for (int b = 0; b < in.shape.B; ++b)
      for (int h = 0; h < in.shape.H; ++h) grad_.data[h] += float(acc[size_t(b) * in.shape.H + h]);
  }

 private:
  Tensor sink_, grad_;
};

class KvBias : public SinkSoftmax {
 public:
  KvBias(const AttnBuildContext& ctx, MaskSet m, bool learned_v)
      : SinkSoftmax(ctx, std::move(m)),
        learned_v_(learned_v),
        scale_(1.0f / std::sqrt(float(ctx.head_dim))),
        k_({ctx.n_heads, ctx.head_dim}),
        dk_({ctx.n_heads, ctx.head_dim}),
        v_({ctx.n_heads, ctx.head_dim}),
        dv_({ctx.n_heads, ctx.head_dim}) {}
  std::string base_spec() const override {
    return std::string("kv_bias(v=") + (learned_v_ ? "learned" : "zero") + ")";
  }
  bool pattern_reproduces_output() const override { return !learned_v_; }
  std::vector<Param> params() override {
    std::vector<Param> p = {{"k", &k_, &dk_, false}};
    if (learned_v_) p.push_back({"v", &v_, &dv_, false});
    return p;
  }
  // N(0, 0.02^2) as Sun et al.'s model_attn_bias.py.
  void init_params(Rng& rng) override {
    for (float& x : k_.data) x = float(rng.normal() * 0.02);
    for (float& x : v_.data) x = learned_v_ ? float(rng.normal() * 0.02) : 0.0f;
  }

 protected:
  float sink_logit(const AttnInputs& in, int b, int h, int t) const override {
    const int Dh = in.shape.Dh;
    const float* q = in.q + ((int64_t(b) * in.shape.H + h) * in.shape.T + t) * Dh;
    float d = 0.0f;
    for (int c = 0; c < Dh; ++c) d += q[c] * k_.data[h * Dh + c];
    return d * scale_;
  }
  const float* sink_value(int h) const override {
    return learned_v_ ? v_.data.data() + size_t(h) * ctx_.head_dim : nullptr;
  }
  size_t n_acc(const AttnShape& s) const override { return 2 * size_t(s.Dh); }
  void sink_backward(const AttnInputs& in, int b, int h, const float* ds_sink, const float* a_sink,
                     const float* dout, float* dq, double* acc) const override {
    const int T = in.shape.T, Dh = in.shape.Dh;
    const float* q = in.q + (int64_t(b) * in.shape.H + h) * in.shape.head_size();
    const float* kp = k_.data.data() + size_t(h) * Dh;
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < Dh; ++c) {
        dq[t * Dh + c] += ds_sink[t] * scale_ * kp[c];
        acc[c] += double(ds_sink[t]) * scale_ * q[t * Dh + c];
        acc[Dh + c] += double(a_sink[t]) * dout[t * Dh + c];
      }
  }
  void finish_backward(const AttnInputs& in, const AttnGrads&, const std::vector<double>& acc) override {
    const int H = in.shape.H, Dh = in.shape.Dh;
    for (int b = 0; b < in.shape.B; ++b)
      for (int h = 0; h < H; ++h) {
        const double* a = acc.data() + (size_t(b) * H + h) * 2 * Dh;
        for (int c = 0; c < Dh; ++c) {
          dk_.data[h * Dh + c] += float(a[c]);
          if (learned_v_) dv_.data[h * Dh + c] += float(a[Dh + c]);
        }
      }
  }

 private:
  bool learned_v_;
  float scale_;
  Tensor k_, dk_, v_, dv_;
};

}  // namespace

std::unique_ptr<Attention> make_softmax1(SpecArgs&, MaskSet m, const AttnBuildContext& ctx) {
  return std::make_unique<Softmax1>(ctx, std::move(m));
}
std::unique_ptr<Attention> make_sink_logit(SpecArgs&, MaskSet m, const AttnBuildContext& ctx) {
  return std::make_unique<SinkLogit>(ctx, std::move(m));
}
std::unique_ptr<Attention> make_kv_bias(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  bool learned = a.get_choice("v", "learned", {"learned", "zero"}) == "learned";
  return std::make_unique<KvBias>(ctx, std::move(m), learned);
}

}  // namespace attnlab
