// Differential attention (Ye et al. 2024, DIFF Transformer). Shape convention: each of our H
// heads splits its q and k (Dh) into halves q1 = q[:Dh/2], q2 = q[Dh/2:] (same for k) and keeps
// the full Dh-dim value, so one head here is one DIFF head of the paper (whose value has twice
// the query half-width). Per head:
//   A_i = softmax(q_i k_i^T / sqrt(Dh/2) + mask),  O = (A_1 - lambda A_2) V,
//   Y = RMSNorm_Dh(O) * subln.weight * (1 - lambda_init)   (RMSNorm eps 1e-5)
//   lambda = exp(lq1 . lk1) - exp(lq2 . lk2) + lambda_init,
//   lambda_init = 0.8 - 0.6 exp(-0.3 l) with l the 0-based layer index (the official code's
//   `depth`), unless lambda_init=... is given. lq*, lk* [Dh/2] ~ N(0, 0.1^2), shared by the
//   layer's heads as in the official code. pattern() streams A_1 - lambda A_2.
#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "core/attention/score_attention.h"
#include "core/attention/variants.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr double kRmsEps = 1e-5;

class Diff : public Attention {
 public:
  Diff(const AttnBuildContext& ctx, MaskSet m, double lambda_init, bool explicit_init)
      : ctx_(ctx), masks_(std::move(m)), lambda_init_(lambda_init), explicit_init_(explicit_init),
        half_(ctx.head_dim / 2), sc_(1.0f / std::sqrt(float(ctx.head_dim / 2))) {
    for (int i = 0; i < 4; ++i) {
      lam_[i] = Tensor({half_});
      dlam_[i] = Tensor({half_});
    }
    w_ = Tensor({ctx.head_dim}, 1.0f);
    dw_ = Tensor({ctx.head_dim});
  }
  std::string spec() const override {
    // Without an explicit lambda_init the spec stays "diff", so it keeps the per-layer schedule.
    return (explicit_init_ ? "diff(lambda_init=" + format_number(lambda_init_) + ")" : std::string("diff")) +
           masks_.spec_suffix();
  }
  bool normalized_rows() const override { return false; }
  bool pattern_reproduces_output() const override { return false; }
  std::vector<Param> params() override {
    return {{"lambda_q1", &lam_[0], &dlam_[0], false}, {"lambda_k1", &lam_[1], &dlam_[1], false},
            {"lambda_q2", &lam_[2], &dlam_[2], false}, {"lambda_k2", &lam_[3], &dlam_[3], false},
            {"subln.weight", &w_, &dw_, false}};
  }
  void init_params(Rng& rng) override {
    for (Tensor& t : lam_)
      for (float& x : t.data) x = float(rng.normal() * 0.1);
    w_.fill(1.0f);
  }

  void forward(const AttnInputs& in, float* out) override {
    check(in);
    const AttnShape s = in.shape;
    const int T = s.T, Dh = s.Dh;
    cached_ = s;
    const float lam = lambda();
    A1_.assign(size_t(s.B) * s.H * T * T, 0.0f);
    A2_.assign(A1_.size(), 0.0f);
    O_.assign(size_t(s.numel()), 0.0f);
    rinv_.assign(size_t(s.B) * s.H * T, 0.0f);
    const float c = float(1.0 - lambda_init_);
#pragma omp parallel for collapse(2) if (int64_t(s.B) * s.H * T * T * Dh > (1 << 16))
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h) {
        const int64_t bh = int64_t(b) * s.H + h, off = bh * s.head_size();
        float* A1 = A1_.data() + bh * T * T;
        float* A2 = A2_.data() + bh * T * T;
        std::vector<float> row(T);
        for (int t = 0; t < T; ++t) {
          scores(in, b, h, t, 0, row.data());
          softmax_row(row.data(), A1 + int64_t(t) * T, t + 1, nullptr);
          scores(in, b, h, t, half_, row.data());
          softmax_row(row.data(), A2 + int64_t(t) * T, t + 1, nullptr);
        }
        Eigen::Map<const RowMat> V(in.v + off, T, Dh);
        Eigen::Map<RowMat> O(O_.data() + off, T, Dh);
        RowMat M = Eigen::Map<const RowMat>(A1, T, T) - lam * Eigen::Map<const RowMat>(A2, T, T);
        O.noalias() = M * V;
        for (int t = 0; t < T; ++t) {
          double ms = 0.0;
          for (int d = 0; d < Dh; ++d) ms += double(O(t, d)) * O(t, d);
          float r = float(1.0 / std::sqrt(ms / Dh + kRmsEps));
          rinv_[bh * T + t] = r;
          for (int d = 0; d < Dh; ++d) out[off + int64_t(t) * Dh + d] = O(t, d) * r * w_.data[d] * c;
        }
      }
  }

  void backward(const AttnInputs& in, const float* dout, const AttnGrads& g) override {
    check(in);
    const AttnShape s = in.shape;
    if (s.B != cached_.B || s.T != cached_.T || A1_.empty())
      throw Error("attention backward: no forward on inputs of this shape preceded it");
    const int T = s.T, Dh = s.Dh, B = s.B, H = s.H;
    const float lam = lambda();
    const float c = float(1.0 - lambda_init_);
    std::vector<double> acc(size_t(B) * H * (Dh + 1), 0.0);  // dw, dlambda per (b, h)
#pragma omp parallel for collapse(2) if (int64_t(B) * H * T * T * Dh > (1 << 16))
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        const int64_t bh = int64_t(b) * H + h, off = bh * s.head_size();
        double* my = acc.data() + bh * (Dh + 1);
        Eigen::Map<const RowMat> V(in.v + off, T, Dh), O(O_.data() + off, T, Dh);
        Eigen::Map<const RowMat> A1(A1_.data() + bh * T * T, T, T), A2(A2_.data() + bh * T * T, T, T);
        RowMat dO(T, Dh);
        for (int t = 0; t < T; ++t) {
          const float r = rinv_[bh * T + t];
          const float* dy = dout + off + int64_t(t) * Dh;
          double dot = 0.0;
          for (int d = 0; d < Dh; ++d) {
            my[d] += double(dy[d]) * c * O(t, d) * r;
            dot += double(dy[d]) * c * w_.data[d] * O(t, d);
          }
          for (int d = 0; d < Dh; ++d)
            dO(t, d) = float(r * c * w_.data[d] * dy[d] - double(O(t, d)) * r * r * r * dot / Dh);
        }
        RowMat M = A1 - lam * A2;
        Eigen::Map<RowMat>(g.dv + off, T, Dh).noalias() = M.transpose() * dO;
        RowMat dM = dO * V.transpose();
        RowMat dS1(T, T), dS2(T, T);
        std::vector<float> da2(T);
        for (int t = 0; t < T; ++t) {
          for (int j = 0; j <= t; ++j) {
            my[Dh] -= double(dM(t, j)) * A2(t, j);
            da2[j] = -lam * dM(t, j);
          }
          softmax_row_backward(A1.data() + int64_t(t) * T, &dM(t, 0), &dS1(t, 0), t + 1, 0.0f, 0.0f, nullptr);
          softmax_row_backward(A2.data() + int64_t(t) * T, da2.data(), &dS2(t, 0), t + 1, 0.0f, 0.0f, nullptr);
          for (int j = t + 1; j < T; ++j) dS1(t, j) = dS2(t, j) = 0.0f;
        }
        // The two halves of dq and dk are strided blocks of the [T, Dh] head.
        using Block = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
        using CBlock = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
        for (int part = 0; part < 2; ++part) {
          const RowMat& dS = part ? dS2 : dS1;
          const int o = part * half_;
          const Eigen::OuterStride<> st(Dh);
          CBlock Kh(in.k + off + o, T, half_, st), Qh(in.q + off + o, T, half_, st);
          Block(g.dq + off + o, T, half_, st).noalias() = sc_ * (dS * Kh);
          Block(g.dk + off + o, T, half_, st).noalias() = sc_ * (dS.transpose() * Qh);
        }
      }
    double dlam = 0.0;
    for (int bh = 0; bh < B * H; ++bh) {
      for (int d = 0; d < Dh; ++d) dw_.data[d] += float(acc[size_t(bh) * (Dh + 1) + d]);
      dlam += acc[size_t(bh) * (Dh + 1) + Dh];
    }
    const double e1 = std::exp(dotp(lam_[0], lam_[1])), e2 = std::exp(dotp(lam_[2], lam_[3]));
    for (int i = 0; i < half_; ++i) {
      dlam_[0].data[i] += float(dlam * e1 * lam_[1].data[i]);
      dlam_[1].data[i] += float(dlam * e1 * lam_[0].data[i]);
      dlam_[2].data[i] -= float(dlam * e2 * lam_[3].data[i]);
      dlam_[3].data[i] -= float(dlam * e2 * lam_[2].data[i]);
    }
  }

  void pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const override {
    check(in);
    if (b < 0 || b >= in.shape.B || h < 0 || h >= in.shape.H)
      throw Error("attention pattern: (b=" + std::to_string(b) + ", h=" + std::to_string(h) +
                  ") is out of range");
    const int T = in.shape.T;
    const float lam = lambda();
    std::vector<float> s(T), a1(T), a2(T);
    for (int t = 0; t < T; ++t) {
      scores(in, b, h, t, 0, s.data());
      softmax_row(s.data(), a1.data(), t + 1, nullptr);
      scores(in, b, h, t, half_, s.data());
      softmax_row(s.data(), a2.data(), t + 1, nullptr);
      for (int j = 0; j <= t; ++j) a1[j] -= lam * a2[j];
      visit(t, a1.data());
    }
  }

 private:
  static double dotp(const Tensor& a, const Tensor& b) {
    double s = 0.0;
    for (int64_t i = 0; i < a.numel(); ++i) s += double(a.data[i]) * b.data[i];
    return s;
  }
  float lambda() const {
    return float(std::exp(dotp(lam_[0], lam_[1])) - std::exp(dotp(lam_[2], lam_[3])) + lambda_init_);
  }
  void check(const AttnInputs& in) const {
    const AttnShape& s = in.shape;
    if (s.B < 1 || s.T < 1 || s.H != ctx_.n_heads || s.Dh != ctx_.head_dim)
      throw Error("attention diff: input shape does not match the variant (H=" +
                  std::to_string(ctx_.n_heads) + ", Dh=" + std::to_string(ctx_.head_dim) + ")");
  }
  // Row t of half `o`'s scores (keys 0..t), -inf where hidden.
  void scores(const AttnInputs& in, int b, int h, int t, int o, float* s) const {
    const int Dh = in.shape.Dh;
    const int64_t off = (int64_t(b) * in.shape.H + h) * in.shape.head_size();
    const float* q = in.q + off + int64_t(t) * Dh + o;
    for (int j = 0; j <= t; ++j) {
      if (!masks_.visible(t, j)) { s[j] = kNegInf; continue; }
      const float* k = in.k + off + int64_t(j) * Dh + o;
      float d = 0.0f;
      for (int c = 0; c < half_; ++c) d += q[c] * k[c];
      s[j] = d * sc_;
    }
  }

  AttnBuildContext ctx_;
  MaskSet masks_;
  double lambda_init_;
  bool explicit_init_;
  int half_;
  float sc_;
  Tensor lam_[4], dlam_[4], w_, dw_;
  AttnShape cached_;
  std::vector<float> A1_, A2_, O_, rinv_;
};

}  // namespace

std::unique_ptr<Attention> make_diff(SpecArgs& a, MaskSet m, const AttnBuildContext& ctx) {
  const double def = 0.8 - 0.6 * std::exp(-0.3 * ctx.layer);
  bool given = a.has("lambda_init");
  double li = a.get_float("lambda_init", def);
  if (ctx.head_dim % 2 != 0)
    throw Error("attention diff: head_dim must be even (q and k are split in halves), got " +
                std::to_string(ctx.head_dim));
  return std::make_unique<Diff>(ctx, std::move(m), li, given);
}

}  // namespace attnlab
