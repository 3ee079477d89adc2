// Gated attention (Qiu et al. 2025, "G1"): Y' = Y * sigmoid(x W^T + b) on each head's SDPA output,
// before W_O; elementwise (W [H*Dh, D]) or headwise (W [H, D]). x is the block's normalized
// input. The inner attention is softmax with the spec's masks; pattern() shows it, ungated.
#include <cmath>

#include "core/attention/variants.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

namespace {

class Gated : public Attention {
 public:
  Gated(const AttnBuildContext& ctx, MaskSet m, bool elementwise)
      : ctx_(ctx), elementwise_(elementwise), masks_(m.spec_suffix()),
        G_(elementwise ? ctx.n_heads * ctx.head_dim : ctx.n_heads),
        w_({G_, ctx.d_model}), dw_({G_, ctx.d_model}), b_({G_}), db_({G_}) {
    SpecArgs none("softmax", {});
    inner_ = make_softmax(none, std::move(m), ctx);
  }
  std::string spec() const override {
    return std::string("gated(mode=") + (elementwise_ ? "elementwise" : "headwise") + ")" + masks_;
  }
  bool pattern_reproduces_output() const override { return false; }
  std::vector<Param> params() override {
    return {{"gate.weight", &w_, &dw_, true}, {"gate.bias", &b_, &db_, false}};
  }
  void init_params(Rng& rng) override {
    for (float& x : w_.data) x = float(rng.normal() * 0.02);
    b_.zero();
  }

  void forward(const AttnInputs& in, float* out) override {
    if (!in.x) throw Error("attention gated: needs the block input x");
    const AttnShape& s = in.shape;
    y_.resize(size_t(s.numel()));
    inner_->forward(in, y_.data());
    gate_.resize(size_t(s.B) * s.T * G_);
    const int D = ctx_.d_model;
#pragma omp parallel for collapse(2) if (int64_t(s.B) * s.T * G_ * ctx_.d_model > (1 << 16))
    for (int b = 0; b < s.B; ++b)
      for (int t = 0; t < s.T; ++t) {
        const float* x = in.x + (int64_t(b) * s.T + t) * D;
        for (int g = 0; g < G_; ++g) {
          float z = b_.data[g];
          for (int c = 0; c < D; ++c) z += w_.data[size_t(g) * D + c] * x[c];
          gate_[(size_t(b) * s.T + t) * G_ + g] = 1.0f / (1.0f + std::exp(-z));
        }
      }
    for (int64_t i = 0; i < s.numel(); ++i) out[i] = y_[i] * gate_of(s, i);
  }

  void backward(const AttnInputs& in, const float* dout, const AttnGrads& grads) override {
    const AttnShape& s = in.shape;
    const int D = ctx_.d_model;
    std::vector<float> dy(size_t(s.numel()));
    std::vector<float> dz(size_t(s.B) * s.T * G_, 0.0f);
    for (int64_t i = 0; i < s.numel(); ++i) {
      float g = gate_of(s, i);
      dy[i] = dout[i] * g;
      dz[gate_index(s, i)] += dout[i] * y_[i] * g * (1.0f - g);
    }
    inner_->backward(in, dy.data(), grads);
    for (int b = 0; b < s.B; ++b)
      for (int t = 0; t < s.T; ++t) {
        const float* x = in.x + (int64_t(b) * s.T + t) * D;
        for (int g = 0; g < G_; ++g) {
          float d = dz[(size_t(b) * s.T + t) * G_ + g];
          db_.data[g] += d;
          for (int c = 0; c < D; ++c) {
            dw_.data[size_t(g) * D + c] += d * x[c];
            if (grads.dx) grads.dx[(int64_t(b) * s.T + t) * D + c] += d * w_.data[size_t(g) * D + c];
          }
        }
      }
  }

  void pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const override {
    inner_->pattern(in, b, h, visit);
  }

 private:
  // Element i of [B, H, T, Dh] -> its gate in [B, T, G].
  size_t gate_index(const AttnShape& s, int64_t i) const {
    const int c = int(i % s.Dh);
    const int t = int(i / s.Dh % s.T);
    const int h = int(i / s.head_size() % s.H);
    const int b = int(i / (s.head_size() * s.H));
    return (size_t(b) * s.T + t) * G_ + (elementwise_ ? h * s.Dh + c : h);
  }
  float gate_of(const AttnShape& s, int64_t i) const { return gate_[gate_index(s, i)]; }

  AttnBuildContext ctx_;
  bool elementwise_;
  std::string masks_;
  int G_;
  Tensor w_, dw_, b_, db_;
  std::unique_ptr<Attention> inner_;
  std::vector<float> y_, gate_;
};

}  // namespace

std::unique_ptr<Attention> make_gated(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  bool elementwise = a.get_choice("mode", "elementwise", {"elementwise", "headwise"}) == "elementwise";
  return std::make_unique<Gated>(ctx, std::move(m), elementwise);
}

}  // namespace attnlab
