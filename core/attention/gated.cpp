// Gated attention (Qiu et al. 2025, "G1"): Y' = Y * sigmoid(x W^T + b) on each head's SDPA output,
// before W_O; elementwise (W [H*Dh, D]) or headwise (W [H, D]). x is the block's normalized
// input. The inner attention is softmax with the spec's masks; pattern() shows it, ungated.
#include <Eigen/Dense>
#include <cmath>

#include "core/attention/variants.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

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
    gate_values(in.x, s.B * s.T, gate_.data());
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
    const int N = s.B * s.T;
    Eigen::Map<const RowMat> dZ(dz.data(), N, G_), X(in.x, N, D);
    Eigen::Map<RowMat>(dw_.ptr(), G_, D).noalias() += dZ.transpose() * X;
    for (int n = 0; n < N; ++n)
      for (int g = 0; g < G_; ++g) db_.data[g] += dZ(n, g);
    if (grads.dx)
      Eigen::Map<RowMat>(grads.dx, N, D).noalias() += dZ * Eigen::Map<const RowMat>(w_.ptr(), G_, D);
  }

  bool supports_cached_decoding() const override { return inner_->supports_cached_decoding(); }
  void forward_cached(const CachedAttnInputs& in, float* out) override {
    if (!in.x) throw Error("attention gated: needs the block input x");
    const int n = in.n_new(), Dh = in.Dh;
    std::vector<float> y(size_t(in.B) * in.H * n * Dh), gate(size_t(in.B) * n * G_);
    inner_->forward_cached(in, y.data());
    gate_values(in.x, in.B * n, gate.data());
    for (int b = 0; b < in.B; ++b)
      for (int h = 0; h < in.H; ++h)
        for (int t = 0; t < n; ++t)
          for (int c = 0; c < Dh; ++c) {
            const size_t i = ((size_t(b) * in.H + h) * n + t) * Dh + c;
            out[i] = y[i] * gate[(size_t(b) * n + t) * G_ + (elementwise_ ? h * Dh + c : h)];
          }
  }

  void pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const override {
    inner_->pattern(in, b, h, visit);
  }

 private:
  // gate [N, G] = sigmoid(x W^T + b) of x [N, D].
  void gate_values(const float* x, int N, float* gate) const {
    const int D = ctx_.d_model;
    Eigen::Map<RowMat> Z(gate, N, G_);
    Z.noalias() = Eigen::Map<const RowMat>(x, N, D) * Eigen::Map<const RowMat>(w_.ptr(), G_, D).transpose();
    for (int n = 0; n < N; ++n)
      for (int g = 0; g < G_; ++g) Z(n, g) = 1.0f / (1.0f + std::exp(-(Z(n, g) + b_.data[g])));
  }
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
