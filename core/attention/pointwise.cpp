// Score-based variants whose weights are a pointwise function of the scores, optionally
// normalized per row: sigmoid, ReLU, elu+1 and softpick.
#include <cmath>
#include <limits>

#include "core/attention/score_attention.h"
#include "core/attention/variants.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr double kNormEps = 1e-8;  // Gu et al.'s row-sum epsilon (model_attn_sim.py)

// A = g(s) or g(s) / (sum_j g(s_j) + 1e-8) over visible keys. g and g' come from the subclass.
class Pointwise : public ScoreAttention {
 public:
  Pointwise(const AttnBuildContext& ctx, MaskSet m, bool norm)
      : ScoreAttention(ctx, std::move(m)), norm_(norm) {}
  bool normalized_rows() const override { return norm_; }

 protected:
  virtual float g(const Row& r, float s) const = 0;
  virtual float dg(const Row& r, float s) const = 0;

  void row_forward(const Row& r, const float* s, float* a, float*) const override {
    double z = 0.0;
    for (int j = 0; j < r.n; ++j) {
      a[j] = s[j] == kNegInf ? 0.0f : g(r, s[j]);
      z += a[j];
    }
    if (norm_) {
      const float inv = float(1.0 / (z + kNormEps));
      for (int j = 0; j < r.n; ++j) a[j] *= inv;
    }
  }
  void row_backward(const Row& r, const float* s, const float* a, const float* da, float* ds,
                    float, float, float*) const override {
    if (!norm_) {
      for (int j = 0; j < r.n; ++j) ds[j] = s[j] == kNegInf ? 0.0f : da[j] * dg(r, s[j]);
      return;
    }
    double z = 0.0, dot = 0.0;
    for (int j = 0; j < r.n; ++j) {
      if (s[j] != kNegInf) z += g(r, s[j]);
      dot += double(da[j]) * a[j];
    }
    const double inv = 1.0 / (z + kNormEps);
    for (int j = 0; j < r.n; ++j)
      ds[j] = s[j] == kNegInf ? 0.0f : float((da[j] - dot) * inv) * dg(r, s[j]);
  }

  bool norm_;
};

// Sigmoid attention: A = sigmoid(s + b) (Ramapuram et al. 2024; Gu et al. with b = 0).
// bias is a number or -log_n (n = the sequence length T of the call, Apple's recommendation)
// or -log_t (t = the number of keys this query sees), each with an optional sign.
class Sigmoid : public Pointwise {
 public:
  enum BiasKind { constant, log_n, log_t };
  Sigmoid(const AttnBuildContext& ctx, MaskSet m, bool norm, BiasKind kind, double value,
          std::string text)
      : Pointwise(ctx, std::move(m), norm), kind_(kind), value_(value), text_(std::move(text)) {}
  std::string base_spec() const override {
    return "sigmoid(bias=" + text_ + ",norm=" + (norm_ ? "true" : "false") + ")";
  }

 protected:
  bool length_dependent() const override { return kind_ == log_n; }
  float bias(const Row& r) const {
    switch (kind_) {
      case log_n: return float(value_ * std::log(double(r.T)));
      case log_t: return float(value_ * std::log(double(r.n_vis)));
      default: return float(value_);
    }
  }
  float g(const Row& r, float s) const override { return 1.0f / (1.0f + std::exp(-(s + bias(r)))); }
  float dg(const Row& r, float s) const override {
    float y = g(r, s);
    return y * (1.0f - y);
  }

 private:
  BiasKind kind_;
  double value_;  // the constant, or the coefficient of log(n)
  std::string text_;
};

// ReLU attention as Guo et al. (Active-Dormant, BBM/model.py): A = ReLU(s) / n, n = the
// number of keys query t sees (t + 1 for plain causal attention). Rows are not normalized.
class Relu : public Pointwise {
 public:
  Relu(const AttnBuildContext& ctx, MaskSet m) : Pointwise(ctx, std::move(m), false) {}
  std::string base_spec() const override { return "relu"; }

 protected:
  float g(const Row& r, float s) const override { return s > 0.0f ? s / float(r.n_vis) : 0.0f; }
  float dg(const Row& r, float s) const override { return s > 0.0f ? 1.0f / float(r.n_vis) : 0.0f; }
};

// elu(s) + 1 (Gu et al. Table 6), with Z = 1 (default) or Z = the row sum.
class Elu1 : public Pointwise {
 public:
  using Pointwise::Pointwise;
  std::string base_spec() const override {
    return std::string("elu1(norm=") + (norm_ ? "true" : "false") + ")";
  }

 protected:
  float g(const Row&, float s) const override { return s > 0.0f ? s + 1.0f : std::exp(s); }
  float dg(const Row&, float s) const override { return s > 0.0f ? 1.0f : std::exp(s); }
};

// Softpick (Zuhri et al. 2025): A_j = ReLU(e^{s_j} - 1) / (sum_j' |e^{s_j'} - 1| + eps),
// computed with the row maximum m factored out of numerator and denominator (exactly equal).
class Softpick : public ScoreAttention {
 public:
  Softpick(const AttnBuildContext& ctx, MaskSet m, double eps)
      : ScoreAttention(ctx, std::move(m)), eps_(eps) {}
  std::string base_spec() const override { return "softpick(eps=" + format_number(eps_) + ")"; }
  bool normalized_rows() const override { return false; }

 protected:
  // Returns the shifted denominator; e[j] = e^{s_j - m}, u[j] = e[j] - e^{-m}.
  double shifted(const Row& r, const float* s, std::vector<double>& e, std::vector<double>& u) const {
    float m = kNegInf;
    for (int j = 0; j < r.n; ++j) m = std::max(m, s[j]);
    e.assign(r.n, 0.0);
    u.assign(r.n, 0.0);
    if (m == kNegInf) return 0.0;
    const double em = std::exp(-double(m));
    double d = eps_ * em;
    for (int j = 0; j < r.n; ++j) {
      if (s[j] == kNegInf) continue;
      e[j] = std::exp(double(s[j]) - m);
      u[j] = e[j] - em;
      d += std::fabs(u[j]);
    }
    return d;
  }
  void row_forward(const Row& r, const float* s, float* a, float*) const override {
    std::vector<double> e, u;
    double d = shifted(r, s, e, u);
    for (int j = 0; j < r.n; ++j) a[j] = u[j] > 0.0 ? float(u[j] / d) : 0.0f;
  }
  void row_backward(const Row& r, const float* s, const float* a, const float* da, float* ds,
                    float, float, float*) const override {
    std::vector<double> e, u;
    double d = shifted(r, s, e, u);
    double dot = 0.0;
    for (int j = 0; j < r.n; ++j) dot += double(da[j]) * a[j];
    for (int j = 0; j < r.n; ++j) {
      if (s[j] == kNegInf || d == 0.0) { ds[j] = 0.0f; continue; }
      double sign = u[j] > 0.0 ? 1.0 : (u[j] < 0.0 ? -1.0 : 0.0);
      ds[j] = float(e[j] / d * ((u[j] > 0.0 ? da[j] : 0.0) - sign * dot));
    }
  }

 private:
  double eps_;
};

}  // namespace

std::unique_ptr<Attention> make_sigmoid(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  std::string text = a.get_raw("bias", "-log_n");
  bool norm = a.get_bool("norm", false);
  double sign = 1.0;
  std::string body = text;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    sign = body[0] == '-' ? -1.0 : 1.0;
    body = body.substr(1);
  }
  if (body == "log_n") return std::make_unique<Sigmoid>(ctx, std::move(m), norm, Sigmoid::log_n, sign, text);
  if (body == "log_t") return std::make_unique<Sigmoid>(ctx, std::move(m), norm, Sigmoid::log_t, sign, text);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !std::isfinite(v))
    a.fail("bias", "must be a number, -log_n (n = sequence length) or -log_t (t = visible keys), got '" +
                       text + "'");
  return std::make_unique<Sigmoid>(ctx, std::move(m), norm, Sigmoid::constant, v, format_number(v));
}

std::unique_ptr<Attention> make_relu(SpecArgs&, MaskSet m, const AttnBuildContext& ctx) {
  return std::make_unique<Relu>(ctx, std::move(m));
}

std::unique_ptr<Attention> make_elu1(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  return std::make_unique<Elu1>(ctx, std::move(m), a.get_bool("norm", false));
}

std::unique_ptr<Attention> make_softpick(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  double eps = a.get_float("eps", 1e-8);
  if (eps < 0) a.fail("eps", "must be >= 0");
  return std::make_unique<Softpick>(ctx, std::move(m), eps);
}

}  // namespace attnlab
