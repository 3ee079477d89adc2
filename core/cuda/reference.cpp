#include "core/cuda/reference.h"

#include <algorithm>
#include <functional>
#include <cmath>
#include <limits>

#include "core/cuda/mask.h"

namespace attnlab::cuda::ref {

void rmsnorm_forward(const float* x, const float* w, int64_t N, int C, float eps, float* y, float* rstd) {
  for (int64_t i = 0; i < N; ++i) {
    const float* xi = x + i * C;
    double ss = 0;
    for (int c = 0; c < C; ++c) ss += double(xi[c]) * xi[c];
    const double r = 1.0 / std::sqrt(ss / C + eps);
    rstd[i] = float(r);
    for (int c = 0; c < C; ++c) y[i * C + c] = float(xi[c] * r * w[c]);
  }
}

void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, int64_t N,
                      int C, float* dx, float* dw) {
  for (int64_t i = 0; i < N; ++i) {
    const float* xi = x + i * C;
    const float* gi = dy + i * C;
    const double r = rstd[i];
    double dot = 0;  // sum_c dy*w*x
    for (int c = 0; c < C; ++c) dot += double(gi[c]) * w[c] * xi[c];
    for (int c = 0; c < C; ++c) {
      dx[i * C + c] = float(r * (double(gi[c]) * w[c] - xi[c] * r * r * dot / C));
      dw[c] += float(double(gi[c]) * xi[c] * r);
    }
  }
}

void layernorm_forward(const float* x, const float* w, const float* b, int64_t N, int C, float eps,
                       float* y, float* mean, float* rstd) {
  for (int64_t i = 0; i < N; ++i) {
    const float* xi = x + i * C;
    double mu = 0;
    for (int c = 0; c < C; ++c) mu += xi[c];
    mu /= C;
    double var = 0;
    for (int c = 0; c < C; ++c) var += (xi[c] - mu) * (xi[c] - mu);
    const double r = 1.0 / std::sqrt(var / C + eps);
    mean[i] = float(mu);
    rstd[i] = float(r);
    for (int c = 0; c < C; ++c) y[i * C + c] = float((xi[c] - mu) * r * w[c] + b[c]);
  }
}

void layernorm_backward(const float* dy, const float* x, const float* w, const float* mean,
                        const float* rstd, int64_t N, int C, float* dx, float* dw, float* db) {
  for (int64_t i = 0; i < N; ++i) {
    const float* xi = x + i * C;
    const float* gi = dy + i * C;
    const double mu = mean[i], r = rstd[i];
    double sum_g = 0, sum_gx = 0;  // over g = dy*w, xhat
    for (int c = 0; c < C; ++c) {
      const double g = double(gi[c]) * w[c], xh = (xi[c] - mu) * r;
      sum_g += g;
      sum_gx += g * xh;
    }
    for (int c = 0; c < C; ++c) {
      const double g = double(gi[c]) * w[c], xh = (xi[c] - mu) * r;
      dx[i * C + c] = float(r * (g - sum_g / C - xh * sum_gx / C));
      dw[c] += float(double(gi[c]) * xh);
      db[c] += gi[c];
    }
  }
}

namespace {
constexpr double kSqrt2OverPi = 0.7978845608028654;
double gelu(double x, bool tanh_approx) {
  if (tanh_approx) return 0.5 * x * (1 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}
double gelu_grad(double x, bool tanh_approx) {
  if (tanh_approx) {
    const double u = kSqrt2OverPi * (x + 0.044715 * x * x * x);
    const double th = std::tanh(u);
    const double du = kSqrt2OverPi * (1 + 3 * 0.044715 * x * x);
    return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du;
  }
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
}  // namespace

void gelu_forward(const float* x, int64_t n, bool tanh_approx, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = float(gelu(x[i], tanh_approx));
}
void gelu_backward(const float* dy, const float* x, int64_t n, bool tanh_approx, float* dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] = float(dy[i] * gelu_grad(x[i], tanh_approx));
}
void swiglu_forward(const float* gate, const float* up, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = float(gate[i] * sigmoid(gate[i]) * up[i]);
}
void swiglu_backward(const float* dy, const float* gate, const float* up, int64_t n, float* dgate, float* dup) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i], sg = sigmoid(g);
    dup[i] = float(dy[i] * g * sg);
    dgate[i] = float(dy[i] * up[i] * sg * (1 + g * (1 - sg)));
  }
}

void rope_apply(float* x, int B, int H, int T, int Dh, int rot_dims, float theta, bool interleaved,
                bool inverse, int pos_offset) {
  const int half = rot_dims / 2;
  for (int64_t bh = 0; bh < int64_t(B) * H; ++bh)
    for (int t = 0; t < T; ++t) {
      float* row = x + (bh * T + t) * Dh;
      for (int i = 0; i < half; ++i) {
        const double freq = std::pow(double(theta), -2.0 * i / rot_dims);
        const double ang = (t + pos_offset) * freq * (inverse ? -1 : 1);
        const double c = std::cos(ang), s = std::sin(ang);
        const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
        const double x0 = row[a], x1 = row[b];
        row[a] = float(x0 * c - x1 * s);
        row[b] = float(x0 * s + x1 * c);
      }
    }
}

void softmax_cross_entropy(const float* logits, const int* targets, int64_t N, int V, float grad_scale,
                           float* losses, float* dlogits) {
  std::vector<double> p(static_cast<size_t>(V));
  for (int64_t i = 0; i < N; ++i) {
    const float* z = logits + i * V;
    const int y = targets[i];
    if (y < 0) {
      losses[i] = 0;
      for (int c = 0; c < V; ++c) dlogits[i * V + c] = 0;
      continue;
    }
    double mx = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < V; ++c) mx = std::max(mx, double(z[c]));
    double sum = 0;
    for (int c = 0; c < V; ++c) sum += (p[c] = std::exp(z[c] - mx));
    losses[i] = float(std::log(sum) + mx - z[y]);
    for (int c = 0; c < V; ++c) dlogits[i * V + c] = float((p[c] / sum - (c == y)) * grad_scale);
  }
}

void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                float beta2, float eps, float weight_decay, int64_t t) {
  const double bc1 = 1 - std::pow(double(beta1), double(t)), bc2 = 1 - std::pow(double(beta2), double(t));
  for (int64_t i = 0; i < n; ++i) {
    double pi = p[i] * (1.0 - double(lr) * weight_decay);
    m[i] = float(beta1 * double(m[i]) + (1 - double(beta1)) * g[i]);
    v[i] = float(beta2 * double(v[i]) + (1 - double(beta2)) * double(g[i]) * g[i]);
    pi -= lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + eps);
    p[i] = float(pi);
  }
}

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B,
          float beta, float* C) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0;
      for (int p = 0; p < K; ++p) {
        const float a = trans_a ? A[int64_t(p) * M + i] : A[int64_t(i) * K + p];
        const float b = trans_b ? B[int64_t(j) * K + p] : B[int64_t(p) * N + j];
        acc += double(a) * b;
      }
      float& c = C[int64_t(i) * N + j];
      c = float(alpha * acc + (beta == 0.0f ? 0.0 : double(beta) * c));
    }
}

namespace {
const float* qrow(const AttnDims& d, const float* q, int b, int h, int t) {
  return q + ((int64_t(b) * d.Hq + h) * d.T + t) * d.Dh;
}
const float* kvrow(const AttnDims& d, const float* k, int b, int h, int j) {
  return k + ((int64_t(b) * d.Hkv + h / d.group()) * d.T + j) * d.Dh;
}
// The score of a visible (t, j): scale q.k, minus the ALiBi bias when set.
double score(const AttnDims& d, const float* q, const float* k, int b, int h, int t, int j) {
  const float* qt = qrow(d, q, b, h, t);
  const float* kj = kvrow(d, k, b, h, j);
  double s = 0;
  for (int c = 0; c < d.Dh; ++c) s += double(qt[c]) * kj[c];
  s *= d.effective_scale();
  if (d.alibi) s -= double(alibi_slope(h, d.Hq)) * (t - j);
  return s;
}
}  // namespace

void attention_row(const AttnDims& d, const float* q, const float* k, int b, int h, int t, double* row) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int j = 0; j < d.T; ++j) {
    if (!key_visible(t, j, d.window, d.sinks)) {
      row[j] = -std::numeric_limits<double>::infinity();
      continue;
    }
    row[j] = score(d, q, k, b, h, t, j);
    mx = std::max(mx, row[j]);
  }
  double sum = 0;
  for (int j = 0; j < d.T; ++j) sum += (row[j] = std::isinf(row[j]) ? 0.0 : std::exp(row[j] - mx));
  for (int j = 0; j < d.T; ++j) row[j] /= sum;
}

void attention_forward(const AttnDims& d, const float* q, const float* k, const float* v, float* out,
                       float* lse) {
  validate(d);
  std::vector<double> row(static_cast<size_t>(d.T));
  for (int b = 0; b < d.B; ++b)
    for (int h = 0; h < d.Hq; ++h)
      for (int t = 0; t < d.T; ++t) {
        attention_row(d, q, k, b, h, t, row.data());
        // lse from the visible scores directly (independent of the normalization above).
        double mx = -std::numeric_limits<double>::infinity();
        std::vector<double> s(size_t(t + 1), -std::numeric_limits<double>::infinity());
        for (int j = 0; j <= t; ++j) {
          if (!key_visible(t, j, d.window, d.sinks)) continue;
          s[j] = score(d, q, k, b, h, t, j);
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int j = 0; j <= t; ++j)
          if (!std::isinf(s[j])) sum += std::exp(s[j] - mx);
        lse[(int64_t(b) * d.Hq + h) * d.T + t] = float(mx + std::log(sum));
        float* o = out + ((int64_t(b) * d.Hq + h) * d.T + t) * d.Dh;
        for (int c = 0; c < d.Dh; ++c) {
          double acc = 0;
          for (int j = 0; j <= t; ++j) acc += row[j] * kvrow(d, v, b, h, j)[c];
          o[c] = float(acc);
        }
      }
}

void attention_backward(const AttnDims& d, const float* q, const float* k, const float* v,
                        const float* dout, float* dq, float* dk, float* dv) {
  validate(d);
  const double scale = d.effective_scale();
  const int64_t nq = int64_t(d.B) * d.Hq * d.T * d.Dh, nkv = int64_t(d.B) * d.Hkv * d.T * d.Dh;
  std::vector<double> gq(static_cast<size_t>(nq), 0.0), gk(static_cast<size_t>(nkv), 0.0), gv(static_cast<size_t>(nkv), 0.0);
  std::vector<double> p(static_cast<size_t>(d.T)), dp(static_cast<size_t>(d.T));
  for (int b = 0; b < d.B; ++b)
    for (int h = 0; h < d.Hq; ++h) {
      const int64_t kvbase = (int64_t(b) * d.Hkv + h / d.group()) * d.T * d.Dh;
      for (int t = 0; t < d.T; ++t) {
        attention_row(d, q, k, b, h, t, p.data());
        const int64_t qi = ((int64_t(b) * d.Hq + h) * d.T + t) * d.Dh;
        const float* go = dout + qi;
        double dsum = 0;  // sum_j p_j dp_j
        for (int j = 0; j <= t; ++j) {
          const float* vj = v + kvbase + int64_t(j) * d.Dh;
          double acc = 0;
          for (int c = 0; c < d.Dh; ++c) acc += double(go[c]) * vj[c];
          dp[j] = acc;
          dsum += p[j] * acc;
        }
        for (int j = 0; j <= t; ++j) {
          if (p[j] == 0.0) continue;
          const double ds = p[j] * (dp[j] - dsum) * scale;
          const float* kj = k + kvbase + int64_t(j) * d.Dh;
          for (int c = 0; c < d.Dh; ++c) {
            gq[qi + c] += ds * kj[c];
            gk[kvbase + int64_t(j) * d.Dh + c] += ds * q[qi + c];
            gv[kvbase + int64_t(j) * d.Dh + c] += p[j] * go[c];
          }
        }
      }
    }
  for (int64_t i = 0; i < nq; ++i) dq[i] = float(gq[i]);
  for (int64_t i = 0; i < nkv; ++i) {
    dk[i] = float(gk[i]);
    dv[i] = float(gv[i]);
  }
}

void row_statistics(const AttnDims& d, int b, int h, int t, const double* p, const int* tokens, StreamStats& s) {
  const int64_t base = (int64_t(b) * d.Hq + h) * d.T;
  const int* x = tokens ? tokens + int64_t(b) * d.T : nullptr;
  double ent = 0, ind = 0, dup = 0, mx = 0;
  for (int j = 0; j <= t; ++j) {
    s.col_mass[base + j] += float(p[j]);
    if (p[j] > 0) ent -= p[j] * std::log(p[j]);
    mx = std::max(mx, p[j]);
    if (x && j < t && x[j] == x[t]) dup += p[j];
    if (x && j >= 1 && j < t && x[j - 1] == x[t]) ind += p[j];
  }
  s.entropy[base + t] = float(ent);
  s.prev_token[base + t] = t > 0 ? float(p[t - 1]) : 0.0f;
  s.induction[base + t] = float(ind);
  s.duplicate[base + t] = float(dup);
  s.row_max[base + t] = float(mx);
  // Top-k masses and k_0.9 from the sorted row.
  std::vector<double> sorted(p, p + t + 1);
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  for (int i = 0; i < kTopKBudgets; ++i) {
    double m = 0;
    for (int r = 0; r < kTopKBudget[i] && r <= t; ++r) m += sorted[size_t(r)];
    s.topk_mass[size_t(base + t) * kTopKBudgets + i] = float(m);
  }
  double cum = 0;
  int below = 0;
  for (double w : sorted) {
    cum += w;
    if (cum <= kCoverageP) ++below;
  }
  s.cover[base + t] = float(std::min(below + 1, kCoverageCensored));
}

void attention_stats(const AttnDims& d, const float* q, const float* k, const int* tokens, StreamStats& s) {
  validate(d);
  s.resize(d);
  std::vector<double> p(static_cast<size_t>(d.T));
  for (int b = 0; b < d.B; ++b)
    for (int h = 0; h < d.Hq; ++h)
      for (int t = 0; t < d.T; ++t) {
        attention_row(d, q, k, b, h, t, p.data());
        row_statistics(d, b, h, t, p.data(), tokens, s);
      }
}

void attention_tile(const AttnDims& d, const float* q, const float* k, const TileRequest& r, float* out) {
  validate(r, d);
  std::vector<double> p(static_cast<size_t>(d.T));
  const int w = r.j1 - r.j0;
  for (int t = r.t0; t < r.t1; ++t) {
    attention_row(d, q, k, r.b, r.h, t, p.data());
    for (int j = r.j0; j < r.j1; ++j) out[int64_t(t - r.t0) * w + (j - r.j0)] = float(p[j]);
  }
}

}  // namespace attnlab::cuda::ref
