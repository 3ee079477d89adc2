#include "core/attention/score_attention.h"

#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "core/tensor/error.h"

namespace attnlab {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

void softmax_row(const float* s, float* a, int n, float* sink) {
  float m = sink ? *sink : kNegInf;
  for (int j = 0; j < n; ++j) m = std::max(m, s[j]);
  if (m == kNegInf) {  // nothing visible: an all-zero row
    for (int j = 0; j < n; ++j) a[j] = 0.0f;
    return;
  }
  double z = 0.0;
  for (int j = 0; j < n; ++j) {
    a[j] = std::exp(s[j] - m);
    z += a[j];
  }
  float es = sink ? std::exp(*sink - m) : 0.0f;
  z += es;
  const float inv = float(1.0 / z);
  for (int j = 0; j < n; ++j) a[j] *= inv;
  if (sink) *sink = es * inv;
}

void softmax_row_backward(const float* a, const float* da, float* ds, int n, float sink_a,
                          float da_sink, float* ds_sink) {
  double dot = double(sink_a) * da_sink;
  for (int j = 0; j < n; ++j) dot += double(a[j]) * da[j];
  for (int j = 0; j < n; ++j) ds[j] = a[j] * float(da[j] - dot);
  if (ds_sink) *ds_sink = sink_a * float(da_sink - dot);
}

ScoreAttention::ScoreAttention(const AttnBuildContext& ctx, MaskSet masks)
    : ctx_(ctx), masks_(std::move(masks)), scale_(1.0f / std::sqrt(float(ctx.head_dim))) {}

void ScoreAttention::finish_row_mask(const std::vector<float>& prep, const Row& r,
                                     float* s) const {
  add_bias_row(prep, r, s);
  if (!masks_.empty())
    for (int j = 0; j <= r.t; ++j)
      if (!masks_.visible(r.t, j)) s[j] = kNegInf;
}

int ScoreAttention::score_row(const AttnInputs& in, const std::vector<float>& prep, int b, int h,
                              int t, float* s) const {
  const AttnShape& sh = in.shape;
  const int64_t off = (int64_t(b) * sh.H + h) * sh.head_size();
  const float* q = in.q + off + int64_t(t) * sh.Dh;
  for (int j = 0; j <= t; ++j) {
    const float* k = in.k + off + int64_t(j) * sh.Dh;
    float d = 0.0f;
    for (int c = 0; c < sh.Dh; ++c) d += q[c] * k[c];
    s[j] = d * scale_;
  }
  const int n_vis = masks_.visible_count(t);
  finish_row_mask(prep, Row{b, h, t, sh.T, n_vis}, s);
  return n_vis;
}

void ScoreAttention::forward(const AttnInputs& in, float* out) {
  check_attention_inputs(in, ctx_, "forward");
  if (!in.keep_for_backward) return forward_streaming(in, out);
  const AttnShape sh = in.shape;
  const int B = sh.B, H = sh.H, T = sh.T, Dh = sh.Dh;
  cached_ = sh;
  A_.assign(size_t(B) * H * T * T, 0.0f);
  sink_a_.assign(size_t(B) * H * T, 0.0f);
  prep_ = prepare(in);
  const bool sink = has_sink();
#pragma omp parallel if (int64_t(B) * H * T * T * Dh > (1 << 16))
  {
    std::vector<float> S(size_t(T) * T);
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        const int64_t off = (int64_t(b) * H + h) * sh.head_size();
        const int64_t bh = int64_t(b) * H + h;
        CMap Q(in.q + off, T, Dh), K(in.k + off, T, Dh), V(in.v + off, T, Dh);
        MMap Sm(S.data(), T, T);
        Sm.noalias() = Q * K.transpose();
        Sm *= scale_;
        float* A = A_.data() + bh * T * T;
        for (int t = 0; t < T; ++t) {
          float* s = S.data() + int64_t(t) * T;
          Row r{b, h, t, T, masks_.visible_count(t)};
          finish_row_mask(prep_, r, s);
          float sv = sink ? sink_logit(in, b, h, t) : 0.0f;
          row_forward(r, s, A + int64_t(t) * T, sink ? &sv : nullptr);
          if (sink) sink_a_[bh * T + t] = sv;
        }
        MMap O(out + off, T, Dh);
        O.noalias() = MMap(A, T, T) * V;
        if (const float* vs = sink ? sink_value(h) : nullptr)
          for (int t = 0; t < T; ++t)
            for (int c = 0; c < Dh; ++c) O(t, c) += sink_a_[bh * T + t] * vs[c];
      }
  }
}

void ScoreAttention::forward_streaming(const AttnInputs& in, float* out) {
  const AttnShape sh = in.shape;
  const int T = sh.T, Dh = sh.Dh;
  A_.clear();  // a later backward must not use weights of another forward
  const std::vector<float> prep = prepare(in);
  const bool sink = has_sink();
#pragma omp parallel if (int64_t(sh.B) * sh.H * T * T * Dh > (1 << 16))
  {
    std::vector<float> s(static_cast<size_t>(T)), a(static_cast<size_t>(T));
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < sh.B; ++b)
      for (int h = 0; h < sh.H; ++h) {
        const int64_t off = (int64_t(b) * sh.H + h) * sh.head_size();
        const float* vs = sink ? sink_value(h) : nullptr;
        for (int t = 0; t < T; ++t) {
          int n_vis = score_row(in, prep, b, h, t, s.data());
          float sv = sink ? sink_logit(in, b, h, t) : 0.0f;
          row_forward(Row{b, h, t, T, n_vis}, s.data(), a.data(), sink ? &sv : nullptr);
          float* o = out + off + int64_t(t) * Dh;
          for (int c = 0; c < Dh; ++c) o[c] = vs ? sv * vs[c] : 0.0f;
          for (int j = 0; j <= t; ++j) {
            const float w = a[size_t(j)];
            if (w == 0.0f) continue;
            const float* v = in.v + off + int64_t(j) * Dh;
            for (int c = 0; c < Dh; ++c) o[c] += w * v[c];
          }
        }
      }
  }
}

void ScoreAttention::backward(const AttnInputs& in, const float* dout, const AttnGrads& g) {
  check_attention_inputs(in, ctx_, "backward");
  const AttnShape sh = in.shape;
  if (sh.B != cached_.B || sh.T != cached_.T || A_.empty())
    throw Error("attention backward: no forward on inputs of this shape preceded it");
  const int B = sh.B, H = sh.H, T = sh.T, Dh = sh.Dh;
  const bool sink = has_sink();
  const size_t na = n_acc(sh);
  std::vector<double> acc(size_t(B) * H * na, 0.0);
#pragma omp parallel if (int64_t(B) * H * T * T * Dh > (1 << 16))
  {
    std::vector<float> S(size_t(T) * T), dA(size_t(T) * T), dS(size_t(T) * T, 0.0f);
    std::vector<float> ds_sink(T), da_sink(T);
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        const int64_t off = (int64_t(b) * H + h) * sh.head_size();
        const int64_t bh = int64_t(b) * H + h;
        CMap Q(in.q + off, T, Dh), K(in.k + off, T, Dh), V(in.v + off, T, Dh);
        CMap dO(dout + off, T, Dh);
        const float* A = A_.data() + bh * T * T;
        CMap Am(A, T, T);
        MMap dAm(dA.data(), T, T), Sm(S.data(), T, T), dSm(dS.data(), T, T);
        dAm.noalias() = dO * V.transpose();
        MMap(g.dv + off, T, Dh).noalias() = Am.transpose() * dO;
        Sm.noalias() = Q * K.transpose();
        Sm *= scale_;
        const float* vs = sink ? sink_value(h) : nullptr;
        double* my_acc = acc.data() + bh * na;
        for (int t = 0; t < T; ++t) {
          float* s = S.data() + int64_t(t) * T;
          Row r{b, h, t, T, masks_.visible_count(t)};
          finish_row_mask(prep_, r, s);
          float das = 0.0f;
          if (vs)
            for (int c = 0; c < Dh; ++c) das += dO(t, c) * vs[c];
          float* ds = dS.data() + int64_t(t) * T;
          float dsk = 0.0f;
          row_backward(r, s, A + int64_t(t) * T, dA.data() + int64_t(t) * T, ds,
                       sink ? sink_a_[bh * T + t] : 0.0f, das, sink ? &dsk : nullptr);
          for (int j = 0; j <= t; ++j)
            if (s[j] == -std::numeric_limits<float>::infinity()) ds[j] = 0.0f;
          for (int j = t + 1; j < T; ++j) ds[j] = 0.0f;
          ds_sink[t] = dsk;
          bias_backward_row(prep_, r, ds, my_acc);
        }
        MMap dQ(g.dq + off, T, Dh), dK(g.dk + off, T, Dh);
        dQ.noalias() = dSm * K;
        dQ *= scale_;
        dK.noalias() = dSm.transpose() * Q;
        dK *= scale_;
        if (sink)
          sink_backward(in, b, h, ds_sink.data(), sink_a_.data() + bh * T, dout + off, g.dq + off,
                        my_acc);
      }
  }
  finish_backward(in, g, acc);
}

void ScoreAttention::pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const {
  check_attention_inputs(in, ctx_, "pattern");
  if (b < 0 || b >= in.shape.B || h < 0 || h >= in.shape.H)
    throw Error("attention pattern: (b=" + std::to_string(b) + ", h=" + std::to_string(h) +
                ") is out of range");
  const int T = in.shape.T;
  std::vector<float> prep = prepare(in);
  std::vector<float> s(T), a(T);
  for (int t = 0; t < T; ++t) {
    int n_vis = score_row(in, prep, b, h, t, s.data());
    float sv = has_sink() ? sink_logit(in, b, h, t) : 0.0f;
    row_forward(Row{b, h, t, T, n_vis}, s.data(), a.data(), has_sink() ? &sv : nullptr);
    visit(t, a.data());
  }
}

}  // namespace attnlab
