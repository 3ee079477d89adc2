// The linear / recurrent variants on the LinearFamily engine (REFERENCE.md 7.1, fla naive.py).
// Every one scales queries by 1/sqrt(Dh) (as fla) except based, whose feature map already
// encodes q.k/sqrt(Dh). Every one takes chunk=N (the parallel form's chunk length).
#include <climits>
#include <cmath>

#include "core/attention/linear_family.h"
#include "core/attention/variants.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

namespace {

float sigmoidf(float z) { return 1.0f / (1.0f + std::exp(-z)); }
float log_sigmoidf(float z) { return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z)); }
float softplusf(float z) { return z > 20.0f ? z : std::log1p(std::exp(z)); }

// z[b, t, g] = x[b, t] . W[g] + bias[g] for a [G, D] projection of the block input.
struct GateProj {
  Tensor w, dw, b, db;
  GateProj(int G, int D) : w({G, D}), dw({G, D}), b({G}), db({G}) {}
  int G() const { return int(b.numel()); }
  float z(const AttnInputs& in, int D, int bb, int t, int g) const {
    const float* x = in.x + (int64_t(bb) * in.shape.T + t) * D;
    float acc = b.data[g];
    for (int c = 0; c < D; ++c) acc += w.data[size_t(g) * D + c] * x[c];
    return acc;
  }
  void backward(const AttnInputs& in, int D, int bb, int t, int g, float dz, float* dx) {
    const float* x = in.x + (int64_t(bb) * in.shape.T + t) * D;
    db.data[g] += dz;
    for (int c = 0; c < D; ++c) {
      dw.data[size_t(g) * D + c] += dz * x[c];
      if (dx) dx[(int64_t(bb) * in.shape.T + t) * D + c] += dz * w.data[size_t(g) * D + c];
    }
  }
};

void need_x(const AttnInputs& in, const char* name) {
  if (!in.x) throw Error(std::string("attention ") + name + ": needs the block input x");
}

// linear(feature=elu1|relu|identity, norm=bool): phi(q) phi(k)^T / sqrt(Dh), optionally divided
// by the row sum (elu1: plain sum; relu and identity: max(|sum|, 1) as Gu et al.).
class Linear : public LinearFamily {
 public:
  enum Map { elu1, relu, identity };
  Linear(const AttnBuildContext& ctx, Map map, bool norm, int chunk)
      : LinearFamily(ctx, ctx.head_dim, !norm ? Norm::none : map == elu1 ? Norm::sum : Norm::safe,
                     Decay::none, false, chunk),
        map_(map), norm_on_(norm), scale_(1.0f / std::sqrt(float(ctx.head_dim))) {}
  std::string spec() const override {
    static const char* names[] = {"elu1", "relu", "identity"};
    return std::string("linear(feature=") + names[map_] + ",norm=" + (norm_on_ ? "true" : "false") +
           chunk_suffix() + ")";
  }

 protected:
  float phi(float x) const {
    return map_ == elu1 ? (x > 0 ? x + 1.0f : std::exp(x)) : map_ == relu ? std::max(x, 0.0f) : x;
  }
  float dphi(float x) const {
    return map_ == elu1 ? (x > 0 ? 1.0f : std::exp(x)) : map_ == relu ? (x > 0 ? 1.0f : 0.0f) : 1.0f;
  }
  void feature(const float* x, float* f, bool query) const override {
    for (int c = 0; c < F_; ++c) f[c] = phi(x[c]) * (query ? scale_ : 1.0f);
  }
  void feature_backward(const float* x, const float* df, float* dx, bool query) const override {
    for (int c = 0; c < F_; ++c) dx[c] += df[c] * dphi(x[c]) * (query ? scale_ : 1.0f);
  }

 private:
  Map map_;
  bool norm_on_;
  float scale_;
};

// Identity features with q scaled by 1/sqrt(Dh).
class ScaledIdentity : public LinearFamily {
 public:
  ScaledIdentity(const AttnBuildContext& ctx, Decay decay, bool delta, int chunk, bool l2)
      : LinearFamily(ctx, ctx.head_dim, Norm::none, decay, delta, chunk),
        l2_(l2), scale_(1.0f / std::sqrt(float(ctx.head_dim))) {}

 protected:
  // With l2: x / sqrt(|x|^2 + 1e-6) (fla's l2norm) before the scale.
  void feature(const float* x, float* f, bool query) const override {
    float inv = 1.0f;
    if (l2_) {
      double ss = 1e-6;
      for (int c = 0; c < F_; ++c) ss += double(x[c]) * x[c];
      inv = float(1.0 / std::sqrt(ss));
    }
    for (int c = 0; c < F_; ++c) f[c] = x[c] * inv * (query ? scale_ : 1.0f);
  }
  void feature_backward(const float* x, const float* df, float* dx, bool query) const override {
    const float sc = query ? scale_ : 1.0f;
    if (!l2_) {
      for (int c = 0; c < F_; ++c) dx[c] += df[c] * sc;
      return;
    }
    double ss = 1e-6, dot = 0.0;
    for (int c = 0; c < F_; ++c) ss += double(x[c]) * x[c];
    const double inv = 1.0 / std::sqrt(ss);
    for (int c = 0; c < F_; ++c) dot += double(df[c]) * x[c] * inv;
    for (int c = 0; c < F_; ++c) dx[c] += float(sc * inv * (df[c] - x[c] * inv * dot));
  }

  bool l2_;
  float scale_;
};

// RetNet retention: S_t = gamma_h S_{t-1} + k v^T, gamma_h = 1 - 2^{-5-h} (Sun et al. 2023).
class Retnet : public ScaledIdentity {
 public:
  Retnet(const AttnBuildContext& ctx, int chunk) : ScaledIdentity(ctx, Decay::scalar, false, chunk, false) {}
  std::string spec() const override { return "retnet(" + chunk_suffix().substr(1) + ")"; }
  bool normalized_rows() const override { return false; }

 protected:
  void gates(const AttnInputs& in, float* la, float*) const override {
    const AttnShape& s = in.shape;
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h)
        for (int t = 0; t < s.T; ++t)
          la[(int64_t(b) * s.H + h) * s.T + t] = float(std::log1p(-std::pow(2.0, -5.0 - h)));
  }
};

// GLA (Yang et al. 2024): S_t = Diag(alpha_t) S_{t-1} + k v^T with per-key-channel
// alpha = exp(logsigmoid(x W^T + b) / 16) (fla's gate_logit_normalizer); gate [H*Dh, D].
class Gla : public ScaledIdentity {
 public:
  Gla(const AttnBuildContext& ctx, int chunk)
      : ScaledIdentity(ctx, Decay::channel, false, chunk, false), gate_(ctx.n_heads * ctx.head_dim, ctx.d_model) {}
  std::string spec() const override { return "gla(" + chunk_suffix().substr(1) + ")"; }
  bool reads_input() const override { return true; }
  std::vector<Param> params() override {
    return {{"gate.weight", &gate_.w, &gate_.dw, true}, {"gate.bias", &gate_.b, &gate_.db, false}};
  }
  void init_params(Rng& rng) override {
    for (float& x : gate_.w.data) x = float(rng.normal() * 0.02);
    gate_.b.zero();
  }

 protected:
  void gates(const AttnInputs& in, float* la, float*) const override {
    need_x(in, "gla");
    const AttnShape& s = in.shape;
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h)
        for (int t = 0; t < s.T; ++t)
          for (int c = 0; c < s.Dh; ++c)
            la[((int64_t(b) * s.H + h) * s.T + t) * s.Dh + c] =
                log_sigmoidf(gate_.z(in, ctx_.d_model, b, t, h * s.Dh + c)) / 16.0f;
  }
  void gates_backward(const AttnInputs& in, const float* dla, const float*, float* dx) override {
    const AttnShape& s = in.shape;
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h)
        for (int t = 0; t < s.T; ++t)
          for (int c = 0; c < s.Dh; ++c) {
            const int g = h * s.Dh + c;
            float z = gate_.z(in, ctx_.d_model, b, t, g);
            float d = dla[((int64_t(b) * s.H + h) * s.T + t) * s.Dh + c] / 16.0f * (1.0f - sigmoidf(z));
            gate_.backward(in, ctx_.d_model, b, t, g, d, dx);
          }
  }

 private:
  GateProj gate_;
};

// DeltaNet (Schlag et al. 2021; Yang et al. 2024) and Gated DeltaNet (Yang et al. 2025):
// L2-normalized q, k; beta_t = sigmoid(x w_h + b_h); gated adds alpha_t = exp(g_t),
// g_t = -exp(A_log_h) softplus(x a_h + dt_bias_h) (Mamba-2 style).
class DeltaNet : public ScaledIdentity {
 public:
  DeltaNet(const AttnBuildContext& ctx, int chunk, bool gated)
      : ScaledIdentity(ctx, gated ? Decay::scalar : Decay::none, true, chunk, true),
        gated_(gated), beta_(ctx.n_heads, ctx.d_model), a_(ctx.n_heads, ctx.d_model),
        A_log_({ctx.n_heads}), dA_log_({ctx.n_heads}) {}
  std::string spec() const override {
    return std::string(gated_ ? "gated_deltanet(" : "deltanet(") + chunk_suffix().substr(1) + ")";
  }
  bool normalized_rows() const override { return false; }
  bool reads_input() const override { return true; }
  std::vector<Param> params() override {
    std::vector<Param> p = {{"beta.weight", &beta_.w, &beta_.dw, true},
                            {"beta.bias", &beta_.b, &beta_.db, false}};
    if (gated_) {
      p.push_back({"a.weight", &a_.w, &a_.dw, true});
      p.push_back({"A_log", &A_log_, &dA_log_, false});
      p.push_back({"dt_bias", &a_.b, &a_.db, false});
    }
    return p;
  }
  // A ~ U(1, 16) and dt ~ logU(1e-3, 1e-1) with dt_bias = softplus^{-1}(dt), as Mamba-2 / fla.
  void init_params(Rng& rng) override {
    for (float& x : beta_.w.data) x = float(rng.normal() * 0.02);
    beta_.b.zero();
    for (float& x : a_.w.data) x = float(rng.normal() * 0.02);
    for (float& x : A_log_.data) x = float(std::log(1.0 + 15.0 * rng.uniform()));
    for (float& x : a_.b.data) {
      double dt = std::exp(std::log(1e-3) + rng.uniform() * (std::log(1e-1) - std::log(1e-3)));
      x = float(dt + std::log(-std::expm1(-dt)));
    }
  }

 protected:
  void gates(const AttnInputs& in, float* la, float* beta) const override {
    need_x(in, gated_ ? "gated_deltanet" : "deltanet");
    const AttnShape& s = in.shape;
    const int D = ctx_.d_model;
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h)
        for (int t = 0; t < s.T; ++t) {
          const int64_t r = (int64_t(b) * s.H + h) * s.T + t;
          beta[r] = sigmoidf(beta_.z(in, D, b, t, h));
          if (gated_) la[r] = -std::exp(A_log_.data[h]) * softplusf(a_.z(in, D, b, t, h));
        }
  }
  void gates_backward(const AttnInputs& in, const float* dla, const float* dbeta, float* dx) override {
    const AttnShape& s = in.shape;
    const int D = ctx_.d_model;
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h)
        for (int t = 0; t < s.T; ++t) {
          const int64_t r = (int64_t(b) * s.H + h) * s.T + t;
          float bt = sigmoidf(beta_.z(in, D, b, t, h));
          beta_.backward(in, D, b, t, h, dbeta[r] * bt * (1.0f - bt), dx);
          if (gated_) {
            float y = a_.z(in, D, b, t, h);
            float A = std::exp(A_log_.data[h]);
            float gval = -A * softplusf(y);
            dA_log_.data[h] += dla[r] * gval;
            a_.backward(in, D, b, t, h, dla[r] * -A * sigmoidf(y), dx);
          }
        }
  }

 private:
  bool gated_;
  GateProj beta_, a_;  // a_.b is dt_bias
  Tensor A_log_, dA_log_;
};

// Based (Arora et al. 2024): weights 1 + s + s^2/2 with s = q.k/sqrt(Dh), as linear attention
// with the 2nd-order Taylor feature map [1, x/Dh^{1/4}, vec(x x^T)/(sqrt(2) sqrt(Dh))]
// (F = 1 + Dh + Dh^2), row-normalized by default.
class Based : public LinearFamily {
 public:
  Based(const AttnBuildContext& ctx, bool norm, int chunk)
      : LinearFamily(ctx, 1 + ctx.head_dim + ctx.head_dim * ctx.head_dim,
                     norm ? Norm::sum : Norm::none, Decay::none, false, chunk),
        norm_on_(norm),
        r1_(1.0f / std::pow(float(ctx.head_dim), 0.25f)),
        r2_(1.0f / (std::sqrt(2.0f) * std::sqrt(float(ctx.head_dim)))) {}
  std::string spec() const override {
    return std::string("based(norm=") + (norm_on_ ? "true" : "false") + chunk_suffix() + ")";
  }

 protected:
  void feature(const float* x, float* f, bool) const override {
    const int D = ctx_.head_dim;
    f[0] = 1.0f;
    for (int a = 0; a < D; ++a) f[1 + a] = x[a] * r1_;
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) f[1 + D + a * D + b] = x[a] * x[b] * r2_;
  }
  void feature_backward(const float* x, const float* df, float* dx, bool) const override {
    const int D = ctx_.head_dim;
    for (int a = 0; a < D; ++a) {
      float acc = df[1 + a] * r1_;
      for (int b = 0; b < D; ++b) acc += (df[1 + D + a * D + b] + df[1 + D + b * D + a]) * x[b] * r2_;
      dx[a] += acc;
    }
  }

 private:
  bool norm_on_;
  float r1_, r2_;
};

int chunk_arg(SpecArgs& a) { return a.get_int("chunk", 64, 1, 1 << 20); }

}  // namespace

std::unique_ptr<Attention> make_linear(SpecArgs& a, MaskSet, const AttnBuildContext& ctx) {
  std::string f = a.get_choice("feature", "elu1", {"elu1", "relu", "identity"});
  bool norm = a.get_bool("norm", true);
  int chunk = chunk_arg(a);
  Linear::Map m = f == "elu1" ? Linear::elu1 : f == "relu" ? Linear::relu : Linear::identity;
  return std::make_unique<Linear>(ctx, m, norm, chunk);
}
std::unique_ptr<Attention> make_retnet(SpecArgs& a, MaskSet, const AttnBuildContext& ctx) {
  return std::make_unique<Retnet>(ctx, chunk_arg(a));
}
std::unique_ptr<Attention> make_gla(SpecArgs& a, MaskSet, const AttnBuildContext& ctx) {
  return std::make_unique<Gla>(ctx, chunk_arg(a));
}
std::unique_ptr<Attention> make_deltanet(SpecArgs& a, MaskSet, const AttnBuildContext& ctx) {
  return std::make_unique<DeltaNet>(ctx, chunk_arg(a), false);
}
std::unique_ptr<Attention> make_gated_deltanet(SpecArgs& a, MaskSet, const AttnBuildContext& ctx) {
  return std::make_unique<DeltaNet>(ctx, chunk_arg(a), true);
}
std::unique_ptr<Attention> make_based(SpecArgs& a, MaskSet, const AttnBuildContext& ctx) {
  bool norm = a.get_bool("norm", true);
  return std::make_unique<Based>(ctx, norm, chunk_arg(a));
}

}  // namespace attnlab
