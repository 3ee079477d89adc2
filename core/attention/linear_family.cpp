#include "core/attention/linear_family.h"

#include <algorithm>
#include <cmath>

#include "core/tensor/error.h"

namespace attnlab {

LinearFamily::LinearFamily(const AttnBuildContext& ctx, int feature_dim, Norm norm, Decay decay,
                           bool delta, int chunk)
    : ctx_(ctx), F_(feature_dim), norm_(norm), decay_(decay), delta_(delta), chunk_(chunk) {
  if (delta && decay == Decay::channel) throw Error("attention: delta rule takes a scalar decay only");
}

std::string LinearFamily::chunk_suffix() const { return ",chunk=" + std::to_string(chunk_); }

void LinearFamily::prepare(const AttnInputs& in, Buffers& buf) const {
  const AttnShape& s = in.shape;
  const int64_t rows = int64_t(s.B) * s.H * s.T;
  const int dv = Dv(s.Dh);
  buf.qf.assign(size_t(rows) * F_, 0.0f);
  buf.kf.assign(size_t(rows) * F_, 0.0f);
  buf.v.assign(size_t(rows) * dv, 1.0f);
#pragma omp parallel for if (rows * F_ > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    feature(in.q + r * s.Dh, buf.qf.data() + r * F_, true);
    feature(in.k + r * s.Dh, buf.kf.data() + r * F_, false);
    std::copy(in.v + r * s.Dh, in.v + (r + 1) * s.Dh, buf.v.data() + r * dv);
  }
  const int la = decay_ == Decay::none ? 0 : decay_ == Decay::scalar ? 1 : F_;
  buf.log_alpha.assign(size_t(rows) * la, 0.0f);
  buf.beta.assign(delta_ ? size_t(rows) : 0, 1.0f);
  if (la || delta_) gates(in, buf.log_alpha.data(), buf.beta.data());
}

void LinearFamily::finish_output(const AttnShape& s, const float* oaug, float* out) const {
  const int64_t rows = int64_t(s.B) * s.H * s.T;
  const int dv = Dv(s.Dh);
  for (int64_t r = 0; r < rows; ++r) {
    const float* o = oaug + r * dv;
    float den = 1.0f;
    if (norm_ == Norm::sum) den = o[s.Dh];
    if (norm_ == Norm::safe) den = std::max(std::fabs(o[s.Dh]), 1.0f);
    for (int d = 0; d < s.Dh; ++d) out[r * s.Dh + d] = o[d] / den;
  }
}

void LinearFamily::forward(const AttnInputs& in, float* out) {
  check_attention_inputs(in, ctx_, "forward");
  const AttnShape s = in.shape;
  const int T = s.T, F = F_, dv = Dv(s.Dh), C = chunk_;
  const int n_chunks = (T + C - 1) / C;
  const int la = decay_ == Decay::none ? 0 : decay_ == Decay::scalar ? 1 : F;
  cached_ = s;
  prepare(in, buf_);
  oaug_.assign(size_t(s.B) * s.H * T * dv, 0.0f);
  states_.assign(size_t(s.B) * s.H * n_chunks * F * dv, 0.0f);
#pragma omp parallel if (int64_t(s.B) * s.H * T * F * dv > (1 << 14))
  {
    std::vector<double> S(size_t(F) * dv), G(size_t(C) * std::max(la, 1)), u(size_t(C) * dv), o(dv);
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h) {
        const int64_t bh = int64_t(b) * s.H + h;
        const float* qf = buf_.qf.data() + bh * T * F;
        const float* kf = buf_.kf.data() + bh * T * F;
        const float* v = buf_.v.data() + bh * T * dv;
        const float* lalpha = buf_.log_alpha.data() + bh * T * la;
        const float* beta = delta_ ? buf_.beta.data() + bh * T : nullptr;
        float* oa = oaug_.data() + bh * T * dv;
        std::fill(S.begin(), S.end(), 0.0);
        for (int ci = 0; ci < n_chunks; ++ci) {
          const int c0 = ci * C, n = std::min(T, c0 + C) - c0;
          float* saved = states_.data() + (size_t(bh) * n_chunks + ci) * F * dv;
          for (size_t i = 0; i < S.size(); ++i) saved[i] = float(S[i]);
          // Cumulative log decay inside the chunk, G[i] = sum_{t0..t0+i} log alpha.
          const int lg = std::max(la, 1);
          for (int i = 0; i < n; ++i)
            for (int c = 0; c < lg; ++c)
              G[i * lg + c] = (la ? lalpha[(c0 + i) * la + c] : 0.0) + (i ? G[(i - 1) * lg + c] : 0.0);
          const bool channel = decay_ == Decay::channel;
          auto g = [&](int i, int c) { return G[i * lg + (channel ? c : 0)]; };
          if (!delta_) {
            for (int i = 0; i < n; ++i) {
              const float* q = qf + int64_t(c0 + i) * F;
              std::fill(o.begin(), o.end(), 0.0);
              for (int c = 0; c < F; ++c) {
                double w = q[c] * std::exp(g(i, c));
                for (int d = 0; d < dv; ++d) o[d] += w * S[size_t(c) * dv + d];
              }
              for (int j = 0; j <= i; ++j) {
                const float* k = kf + int64_t(c0 + j) * F;
                double w = 0.0;
                if (channel) {
                  for (int c = 0; c < F; ++c) w += double(q[c]) * k[c] * std::exp(g(i, c) - g(j, c));
                } else {
                  for (int c = 0; c < F; ++c) w += double(q[c]) * k[c];
                  if (la) w *= std::exp(g(i, 0) - g(j, 0));
                }
                for (int d = 0; d < dv; ++d) o[d] += w * v[int64_t(c0 + j) * dv + d];
              }
              for (int d = 0; d < dv; ++d) oa[int64_t(c0 + i) * dv + d] = float(o[d]);
            }
            for (int c = 0; c < F; ++c) {
              const double last = g(n - 1, c);
              for (int d = 0; d < dv; ++d) S[size_t(c) * dv + d] *= std::exp(last);
              for (int j = 0; j < n; ++j) {
                double w = kf[int64_t(c0 + j) * F + c] * std::exp(last - g(j, c));
                for (int d = 0; d < dv; ++d) S[size_t(c) * dv + d] += w * v[int64_t(c0 + j) * dv + d];
              }
            }
          } else {
            // u_i = beta_i (v_i - A_i S0^T k_i - sum_{j<i} (A_i/A_j)(k_j.k_i) u_j), then
            // o_i = A_i S0^T q_i + sum_{j<=i} (A_i/A_j)(k_j.q_i) u_j.
            for (int i = 0; i < n; ++i) {
              const float* k = kf + int64_t(c0 + i) * F;
              const float* q = qf + int64_t(c0 + i) * F;
              const double Ai = std::exp(g(i, 0));
              double* ui = u.data() + size_t(i) * dv;
              std::fill(o.begin(), o.end(), 0.0);
              for (int d = 0; d < dv; ++d) ui[d] = 0.0;
              for (int c = 0; c < F; ++c)
                for (int d = 0; d < dv; ++d) {
                  ui[d] += Ai * k[c] * S[size_t(c) * dv + d];
                  o[d] += Ai * q[c] * S[size_t(c) * dv + d];
                }
              for (int j = 0; j < i; ++j) {
                const float* kj = kf + int64_t(c0 + j) * F;
                double kk = 0.0;
                for (int c = 0; c < F; ++c) kk += double(kj[c]) * k[c];
                kk *= std::exp(g(i, 0) - g(j, 0));
                for (int d = 0; d < dv; ++d) ui[d] += kk * u[size_t(j) * dv + d];
              }
              for (int d = 0; d < dv; ++d) ui[d] = beta[c0 + i] * (v[int64_t(c0 + i) * dv + d] - ui[d]);
              for (int j = 0; j <= i; ++j) {
                const float* kj = kf + int64_t(c0 + j) * F;
                double kq = 0.0;
                for (int c = 0; c < F; ++c) kq += double(kj[c]) * q[c];
                kq *= std::exp(g(i, 0) - g(j, 0));
                for (int d = 0; d < dv; ++d) o[d] += kq * u[size_t(j) * dv + d];
              }
              for (int d = 0; d < dv; ++d) oa[int64_t(c0 + i) * dv + d] = float(o[d]);
            }
            const double last = g(n - 1, 0);
            for (double& x : S) x *= std::exp(last);
            for (int j = 0; j < n; ++j) {
              const float* kj = kf + int64_t(c0 + j) * F;
              const double w = std::exp(last - g(j, 0));
              for (int c = 0; c < F; ++c)
                for (int d = 0; d < dv; ++d) S[size_t(c) * dv + d] += w * kj[c] * u[size_t(j) * dv + d];
            }
          }
        }
      }
  }
  finish_output(s, oaug_.data(), out);
}

// One recurrence step on state S (F x dv, row-major): S <- step(S) with value row vt.
// Returns nothing; w and u are scratch (dv).
namespace {
struct StepIn {
  const float* k;
  const float* v;  // dv values
  const float* la; // log alpha: 1 or F values, or null
  bool channel;
  float beta;
  bool delta;
};
void step(std::vector<double>& S, int F, int dv, const StepIn& st, std::vector<double>& u) {
  for (int c = 0; c < F; ++c) {
    double a = st.la ? std::exp(double(st.la[st.channel ? c : 0])) : 1.0;
    if (a != 1.0)
      for (int d = 0; d < dv; ++d) S[size_t(c) * dv + d] *= a;
  }
  if (!st.delta) {
    for (int c = 0; c < F; ++c)
      for (int d = 0; d < dv; ++d) S[size_t(c) * dv + d] += double(st.k[c]) * st.v[d];
    return;
  }
  u.assign(dv, 0.0);
  for (int c = 0; c < F; ++c)
    for (int d = 0; d < dv; ++d) u[d] += st.k[c] * S[size_t(c) * dv + d];
  for (int d = 0; d < dv; ++d) u[d] = st.beta * (st.v[d] - u[d]);
  for (int c = 0; c < F; ++c)
    for (int d = 0; d < dv; ++d) S[size_t(c) * dv + d] += st.k[c] * u[d];
}
}  // namespace

void LinearFamily::forward_recurrent(const AttnInputs& in, float* out) {
  check_attention_inputs(in, ctx_, "forward");
  const AttnShape s = in.shape;
  const int T = s.T, F = F_, dv = Dv(s.Dh);
  const int la = decay_ == Decay::none ? 0 : decay_ == Decay::scalar ? 1 : F;
  Buffers buf;
  prepare(in, buf);
  std::vector<float> oa(size_t(s.B) * s.H * T * dv);
#pragma omp parallel if (int64_t(s.B) * s.H * T * F * dv > (1 << 14))
  {
    std::vector<double> S(size_t(F) * dv), u(dv);
#pragma omp for collapse(2)
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h) {
        const int64_t bh = int64_t(b) * s.H + h;
        std::fill(S.begin(), S.end(), 0.0);
        for (int t = 0; t < T; ++t) {
          const int64_t r = bh * T + t;
          step(S, F, dv,
               {buf.kf.data() + r * F, buf.v.data() + r * dv,
                la ? buf.log_alpha.data() + r * la : nullptr, decay_ == Decay::channel,
                delta_ ? buf.beta[r] : 1.0f, delta_},
               u);
          const float* q = buf.qf.data() + r * F;
          for (int d = 0; d < dv; ++d) {
            double acc = 0.0;
            for (int c = 0; c < F; ++c) acc += q[c] * S[size_t(c) * dv + d];
            oa[r * dv + d] = float(acc);
          }
        }
      }
  }
  finish_output(s, oa.data(), out);
}

void LinearFamily::backward(const AttnInputs& in, const float* dout, const AttnGrads& g) {
  check_attention_inputs(in, ctx_, "backward");
  const AttnShape s = in.shape;
  if (s.B != cached_.B || s.T != cached_.T || oaug_.empty())
    throw Error("attention backward: no forward on inputs of this shape preceded it");
  const int T = s.T, F = F_, Dh = s.Dh, dv = Dv(Dh), C = chunk_;
  const int n_chunks = (T + C - 1) / C;
  const int la = decay_ == Decay::none ? 0 : decay_ == Decay::scalar ? 1 : F;
  const bool channel = decay_ == Decay::channel;
  const int64_t rows = int64_t(s.B) * s.H * T;
  std::vector<float> dqf(size_t(rows) * F), dkf(size_t(rows) * F), dla(size_t(rows) * la),
      dbeta(delta_ ? size_t(rows) : 0);
#pragma omp parallel if (int64_t(s.B) * s.H * T * F * dv > (1 << 14))
  {
    std::vector<double> dS(size_t(F) * dv), Sts(size_t(C + 1) * F * dv), doa(dv), u(dv), w(dv),
        du(dv), dw(dv), dSp(size_t(F) * dv);
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h) {
        const int64_t bh = int64_t(b) * s.H + h;
        std::fill(dS.begin(), dS.end(), 0.0);
        for (int ci = n_chunks - 1; ci >= 0; --ci) {
          const int c0 = ci * C, n = std::min(T, c0 + C) - c0;
          const float* saved = states_.data() + (size_t(bh) * n_chunks + ci) * F * dv;
          std::vector<double> S(saved, saved + size_t(F) * dv);
          std::copy(S.begin(), S.end(), Sts.begin());
          for (int i = 0; i < n; ++i) {
            const int64_t r = bh * T + c0 + i;
            step(S, F, dv,
                 {buf_.kf.data() + r * F, buf_.v.data() + r * dv,
                  la ? buf_.log_alpha.data() + r * la : nullptr, channel,
                  delta_ ? buf_.beta[r] : 1.0f, delta_},
                 u);
            std::copy(S.begin(), S.end(), Sts.begin() + size_t(i + 1) * F * dv);
          }
          for (int i = n - 1; i >= 0; --i) {
            const int64_t r = bh * T + c0 + i;
            const double* Sp = Sts.data() + size_t(i) * F * dv;
            const double* St = Sts.data() + size_t(i + 1) * F * dv;
            const float* q = buf_.qf.data() + r * F;
            const float* k = buf_.kf.data() + r * F;
            const float* v = buf_.v.data() + r * dv;
            // dL/d(o_aug) from dL/d(out) through the normaliser.
            const float* oa = oaug_.data() + r * dv;
            const float* dy = dout + r * Dh;
            if (norm_ == Norm::none) {
              for (int d = 0; d < Dh; ++d) doa[d] = dy[d];
            } else {
              const double z = oa[Dh];
              const double den = norm_ == Norm::sum ? z : std::max(std::fabs(z), 1.0);
              double dden = 0.0;
              for (int d = 0; d < Dh; ++d) {
                doa[d] = dy[d] / den;
                dden -= dy[d] * double(oa[d]) / (den * den);
              }
              doa[Dh] = norm_ == Norm::sum ? dden : (std::fabs(z) > 1.0 ? (z > 0 ? dden : -dden) : 0.0);
            }
            for (int c = 0; c < F; ++c) {
              double acc = 0.0;
              for (int d = 0; d < dv; ++d) {
                dS[size_t(c) * dv + d] += q[c] * doa[d];
                acc += St[size_t(c) * dv + d] * doa[d];
              }
              dqf[r * F + c] = float(acc);
            }
            float* dk = dkf.data() + r * F;
            float* dvv = g.dv + r * Dh;
            if (!delta_) {
              for (int c = 0; c < F; ++c) {
                double acc = 0.0;
                for (int d = 0; d < dv; ++d) acc += dS[size_t(c) * dv + d] * v[d];
                dk[c] = float(acc);
              }
              for (int d = 0; d < Dh; ++d) {
                double acc = 0.0;
                for (int c = 0; c < F; ++c) acc += dS[size_t(c) * dv + d] * k[c];
                dvv[d] = float(acc);
              }
              if (la) {
                double dsum = 0.0;
                for (int c = 0; c < F; ++c) {
                  const double a = std::exp(double(buf_.log_alpha[r * la + (channel ? c : 0)]));
                  double da = 0.0;
                  for (int d = 0; d < dv; ++d) da += dS[size_t(c) * dv + d] * Sp[size_t(c) * dv + d];
                  if (channel) dla[r * la + c] = float(da * a);
                  else dsum += da * a;
                  for (int d = 0; d < dv; ++d) dS[size_t(c) * dv + d] *= a;
                }
                if (!channel) dla[r] = float(dsum);
              }
            } else {
              const double a = la ? std::exp(double(buf_.log_alpha[r])) : 1.0;
              const double beta = buf_.beta[r];
              // S' = a Sp, w = S'^T k, u = beta (v - w), S_t = S' + k u^T.
              for (int d = 0; d < dv; ++d) {
                double acc = 0.0;
                for (int c = 0; c < F; ++c) acc += a * Sp[size_t(c) * dv + d] * k[c];
                w[d] = acc;
                u[d] = beta * (v[d] - acc);
              }
              double db = 0.0;
              for (int d = 0; d < dv; ++d) {
                double acc = 0.0;
                for (int c = 0; c < F; ++c) acc += dS[size_t(c) * dv + d] * k[c];
                du[d] = acc;
                db += acc * (v[d] - w[d]);
                if (d < Dh) dvv[d] = float(beta * acc);
                dw[d] = -beta * acc;
              }
              dbeta[r] = float(db);
              double dalpha = 0.0;
              for (int c = 0; c < F; ++c) {
                double dkc = 0.0;
                for (int d = 0; d < dv; ++d) {
                  dkc += dS[size_t(c) * dv + d] * u[d] + a * Sp[size_t(c) * dv + d] * dw[d];
                  dSp[size_t(c) * dv + d] = dS[size_t(c) * dv + d] + k[c] * dw[d];
                  dalpha += dSp[size_t(c) * dv + d] * Sp[size_t(c) * dv + d];
                }
                dk[c] = float(dkc);
              }
              if (la) dla[r] = float(dalpha * a);
              for (size_t i2 = 0; i2 < dS.size(); ++i2) dS[i2] = a * dSp[i2];
            }
          }
        }
      }
  }
  std::fill(g.dq, g.dq + rows * Dh, 0.0f);
  std::fill(g.dk, g.dk + rows * Dh, 0.0f);
#pragma omp parallel for if (rows * F > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    feature_backward(in.q + r * Dh, dqf.data() + r * F, g.dq + r * Dh, true);
    feature_backward(in.k + r * Dh, dkf.data() + r * F, g.dk + r * Dh, false);
  }
  if (la || delta_) gates_backward(in, dla.data(), dbeta.data(), g.dx);
}

void LinearFamily::pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const {
  check_attention_inputs(in, ctx_, "pattern");
  if (b < 0 || b >= in.shape.B || h < 0 || h >= in.shape.H)
    throw Error("attention pattern: (b=" + std::to_string(b) + ", h=" + std::to_string(h) +
                ") is out of range");
  const int T = in.shape.T, F = F_;
  const int la = decay_ == Decay::none ? 0 : decay_ == Decay::scalar ? 1 : F;
  Buffers buf;
  prepare(in, buf);
  // One-hot values e_j (plus the ones column of the normaliser): S's column j then carries
  // key j's contribution, so row t of M is qf_t^T S_t.
  const int dv = T + 1;
  std::vector<double> S(size_t(F) * dv, 0.0), u(dv);
  std::vector<float> onehot(dv, 0.0f), row(T);
  const int64_t bh = int64_t(b) * in.shape.H + h;
  for (int t = 0; t < T; ++t) {
    const int64_t r = bh * T + t;
    std::fill(onehot.begin(), onehot.end(), 0.0f);
    onehot[t] = 1.0f;
    onehot[T] = 1.0f;
    step(S, F, dv,
         {buf.kf.data() + r * F, onehot.data(), la ? buf.log_alpha.data() + r * la : nullptr,
          decay_ == Decay::channel, delta_ ? buf.beta[r] : 1.0f, delta_},
         u);
    const float* q = buf.qf.data() + r * F;
    double z = 0.0;
    for (int c = 0; c < F; ++c) z += q[c] * S[size_t(c) * dv + T];
    double den = norm_ == Norm::sum ? z : norm_ == Norm::safe ? std::max(std::fabs(z), 1.0) : 1.0;
    for (int j = 0; j < T; ++j) {
      double acc = 0.0;
      if (j <= t)
        for (int c = 0; c < F; ++c) acc += q[c] * S[size_t(c) * dv + j];
      row[j] = float(acc / den);
    }
    visit(t, row.data());
  }
}

}  // namespace attnlab
