// The CPU references the GPU kernels are judged against: known answers, invariants, and
// gradients against central finite differences.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <numeric>
#include <tuple>
#include <vector>

#include "core/attention/attention.h"
#include "core/cuda/mask.h"
#include "core/cuda/reference.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

using namespace attnlab;
using namespace attnlab::cuda;

namespace {

std::vector<float> random_vec(Rng& rng, size_t n, float lo = -1, float hi = 1) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniformf(lo, hi);
  return v;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

// Checks analytic[i] against d(loss)/d(x[i]) by central differences, for every i.
void check_grad(std::vector<float>& x, const std::vector<float>& analytic,
                const std::function<double()>& loss, double eps = 1e-2, double tol = 2e-3) {
  REQUIRE(x.size() == analytic.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float keep = x[i];
    x[i] = keep + float(eps);
    const double up = loss();
    x[i] = keep - float(eps);
    const double down = loss();
    x[i] = keep;
    const double fd = (up - down) / (2 * eps);
    INFO("element " << i);
    REQUIRE(analytic[i] == Approx(fd).margin(tol).epsilon(1e-2));
  }
}

}  // namespace

TEST_CASE("reference RMSNorm: known answer and gradients", "[cuda][reference]") {
  const float x1[] = {3, 4}, w1[] = {1, 2};
  float y1[2], r1;
  ref::rmsnorm_forward(x1, w1, 1, 2, 0.0f, y1, &r1);
  CHECK(r1 == Approx(1 / std::sqrt(12.5)));
  CHECK(y1[1] == Approx(8 / std::sqrt(12.5)));

  Rng rng(1);
  const int N = 3, C = 5;
  auto x = random_vec(rng, N * C), w = random_vec(rng, C, 0.5, 1.5), gy = random_vec(rng, N * C);
  std::vector<float> y(N * C), rstd(N), dx(N * C), dw(C, 0.0f);
  auto loss = [&] {
    ref::rmsnorm_forward(x.data(), w.data(), N, C, 1e-5f, y.data(), rstd.data());
    return dot(y, gy);
  };
  loss();
  ref::rmsnorm_backward(gy.data(), x.data(), w.data(), rstd.data(), N, C, dx.data(), dw.data());
  check_grad(x, dx, loss);
  check_grad(w, dw, loss);
}

TEST_CASE("reference LayerNorm: zero mean, unit variance and gradients", "[cuda][reference]") {
  Rng rng(2);
  const int N = 3, C = 6;
  auto x = random_vec(rng, N * C), w = random_vec(rng, C, 0.5, 1.5), b = random_vec(rng, C),
       gy = random_vec(rng, N * C);
  std::vector<float> ones(C, 1.0f), zeros(C, 0.0f), y(N * C), mean(N), rstd(N);
  ref::layernorm_forward(x.data(), ones.data(), zeros.data(), N, C, 0.0f, y.data(), mean.data(), rstd.data());
  for (int i = 0; i < N; ++i) {
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) m += y[i * C + c];
    for (int c = 0; c < C; ++c) v += y[i * C + c] * y[i * C + c];
    CHECK(m / C == Approx(0).margin(1e-6));
    CHECK(v / C == Approx(1).epsilon(1e-5));
  }
  std::vector<float> dx(N * C), dw(C, 0.0f), db(C, 0.0f);
  auto loss = [&] {
    ref::layernorm_forward(x.data(), w.data(), b.data(), N, C, 1e-5f, y.data(), mean.data(), rstd.data());
    return dot(y, gy);
  };
  loss();
  ref::layernorm_backward(gy.data(), x.data(), w.data(), mean.data(), rstd.data(), N, C, dx.data(), dw.data(),
                          db.data());
  check_grad(x, dx, loss);
  check_grad(w, dw, loss);
  check_grad(b, db, loss);
}

TEST_CASE("reference activations: known values and gradients", "[cuda][reference]") {
  const float xs[] = {0.0f, 1.0f};
  float ys[2];
  ref::gelu_forward(xs, 2, false, ys);
  CHECK(ys[0] == 0.0f);
  CHECK(ys[1] == Approx(0.8413447));  // Phi(1)
  ref::gelu_forward(xs, 2, true, ys);
  CHECK(ys[1] == Approx(0.8411920));
  Rng rng(3);
  const int n = 9;
  for (bool approx : {false, true}) {
    auto x = random_vec(rng, n, -3, 3), gy = random_vec(rng, n);
    std::vector<float> y(n), dx(n);
    auto loss = [&] {
      ref::gelu_forward(x.data(), n, approx, y.data());
      return dot(y, gy);
    };
    ref::gelu_backward(gy.data(), x.data(), n, approx, dx.data());
    check_grad(x, dx, loss, 1e-3);
  }
  auto g = random_vec(rng, n, -3, 3), u = random_vec(rng, n), gy = random_vec(rng, n);
  std::vector<float> y(n), dg(n), du(n);
  auto loss = [&] {
    ref::swiglu_forward(g.data(), u.data(), n, y.data());
    return dot(y, gy);
  };
  ref::swiglu_backward(gy.data(), g.data(), u.data(), n, dg.data(), du.data());
  check_grad(g, dg, loss, 1e-3);
  check_grad(u, du, loss, 1e-3);
}

TEST_CASE("reference RoPE rotates pairs, preserves norms and inverts", "[cuda][reference]") {
  // One head, Dh 4, position 1, theta 1: every pair rotates by 1 radian.
  for (bool inter : {true, false}) {
    std::vector<float> x = {1, 0, 0, 0, 1, 0, 0, 0};  // T = 2 rows
    ref::rope_apply(x.data(), 1, 1, 2, 4, 4, 1.0f, inter, false);
    CHECK(x[0] == 1.0f);  // position 0 is not rotated
    const int partner = inter ? 5 : 6;
    CHECK(x[4] == Approx(std::cos(1.0)));
    CHECK(x[partner] == Approx(std::sin(1.0)));
  }
  Rng rng(4);
  const int B = 2, H = 3, T = 5, Dh = 8;
  auto x = random_vec(rng, B * H * T * Dh);
  auto y = x;
  ref::rope_apply(y.data(), B, H, T, Dh, 6, 10000.0f, false, false, 3);
  for (int r = 0; r < B * H * T; ++r) {
    double n0 = 0, n1 = 0;
    for (int c = 0; c < Dh; ++c) n0 += x[r * Dh + c] * x[r * Dh + c], n1 += y[r * Dh + c] * y[r * Dh + c];
    REQUIRE(n1 == Approx(n0).epsilon(1e-5));
    REQUIRE(y[r * Dh + 7] == x[r * Dh + 7]);  // dims past rot_dims untouched
  }
  ref::rope_apply(y.data(), B, H, T, Dh, 6, 10000.0f, false, true, 3);
  for (size_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == Approx(x[i]).margin(1e-6));
}

TEST_CASE("reference softmax cross-entropy", "[cuda][reference]") {
  const int V = 4;
  std::vector<float> logits = {0, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9, 9};
  std::vector<int> y = {2, 3, -1};
  std::vector<float> loss(3), dl(12);
  ref::softmax_cross_entropy(logits.data(), y.data(), 3, V, 0.5f, loss.data(), dl.data());
  CHECK(loss[0] == Approx(std::log(4.0)));
  CHECK(loss[1] == Approx(std::log(std::exp(1.) + std::exp(2.) + std::exp(3.) + std::exp(4.)) - 4));
  CHECK(loss[2] == 0.0f);
  CHECK(dl[2] == Approx((0.25 - 1) * 0.5));
  CHECK(dl[0] == Approx(0.125));
  for (int c = 0; c < V; ++c) CHECK(dl[8 + c] == 0.0f);
  Rng rng(5);
  auto z = random_vec(rng, 2 * 6, -2, 2);
  std::vector<int> t = {1, 4};
  std::vector<float> l(2), g(12), scratch(12);
  ref::softmax_cross_entropy(z.data(), t.data(), 2, 6, 1.0f, l.data(), g.data());
  check_grad(z, g, [&] {
    ref::softmax_cross_entropy(z.data(), t.data(), 2, 6, 1.0f, l.data(), scratch.data());
    return double(l[0]) + l[1];
  }, 1e-3);
}

TEST_CASE("reference AdamW step matches the closed form", "[cuda][reference]") {
  // First step, no decay: m_hat = g, v_hat = g^2, so p moves by lr * g / (|g| + eps).
  std::vector<float> p = {1.0f, -2.0f}, g = {0.5f, -4.0f}, m(2, 0.0f), v(2, 0.0f);
  ref::adamw_step(p.data(), g.data(), m.data(), v.data(), 2, 0.1f, 0.9f, 0.95f, 1e-8f, 0.0f, 1);
  CHECK(p[0] == Approx(0.9f));
  CHECK(p[1] == Approx(-1.9f));
  CHECK(m[0] == Approx(0.05f));
  CHECK(v[1] == Approx(0.05f * 16));
  // Decoupled decay: zero gradient shrinks p by lr*wd only.
  std::vector<float> p2 = {2.0f}, g2 = {0.0f}, m2 = {0.0f}, v2 = {0.0f};
  ref::adamw_step(p2.data(), g2.data(), m2.data(), v2.data(), 1, 0.1f, 0.9f, 0.95f, 1e-8f, 0.5f, 3);
  CHECK(p2[0] == Approx(2.0f * (1 - 0.05f)));
}

namespace {
AttnDims small_dims(int window, int sinks, int Hq = 4, int Hkv = 2) {
  AttnDims d;
  d.B = 2, d.Hq = Hq, d.Hkv = Hkv, d.T = 7, d.Dh = 3;
  d.window = window, d.sinks = sinks;
  return d;
}
}  // namespace

TEST_CASE("reference attention: uniform rows and GQA sharing", "[cuda][reference][attention]") {
  for (int window : {0, 3})
    for (int sinks : {0, 2}) {
      AttnDims d = small_dims(window, sinks);
      const size_t nq = size_t(d.B) * d.Hq * d.T * d.Dh, nkv = size_t(d.B) * d.Hkv * d.T * d.Dh;
      Rng rng(6);
      std::vector<float> q(nq, 0.0f), k = random_vec(rng, nkv), v = random_vec(rng, nkv), out(nq),
                         lse(size_t(d.B) * d.Hq * d.T);
      ref::attention_forward(d, q.data(), k.data(), v.data(), out.data(), lse.data());
      // q = 0: every visible key weighs 1/n_t, so out is the mean of visible values.
      for (int b = 0; b < d.B; ++b)
        for (int h = 0; h < d.Hq; ++h)
          for (int t = 0; t < d.T; ++t) {
            const int n = visible_count(t, window, sinks);
            REQUIRE(lse[(b * d.Hq + h) * d.T + t] == Approx(std::log(double(n))));
            for (int c = 0; c < d.Dh; ++c) {
              double mean = 0;
              for (int j = 0; j <= t; ++j)
                if (key_visible(t, j, window, sinks)) mean += v[((b * d.Hkv + h / 2) * d.T + j) * d.Dh + c];
              REQUIRE(out[((b * d.Hq + h) * d.T + t) * d.Dh + c] == Approx(mean / n).margin(1e-6));
            }
          }
    }
}

TEST_CASE("reference attention backward matches finite differences", "[cuda][reference][attention]") {
  for (int window : {0, 2})
    for (int sinks : {0, 1}) {
      AttnDims d = small_dims(window, sinks, 2, 1);
      d.B = 1;
      d.T = 5;
      const size_t nq = size_t(d.Hq) * d.T * d.Dh, nkv = size_t(d.Hkv) * d.T * d.Dh;
      Rng rng(7);
      auto q = random_vec(rng, nq), k = random_vec(rng, nkv), v = random_vec(rng, nkv), go = random_vec(rng, nq);
      std::vector<float> out(nq), lse(size_t(d.Hq) * d.T), dq(nq), dk(nkv), dv(nkv);
      auto loss = [&] {
        ref::attention_forward(d, q.data(), k.data(), v.data(), out.data(), lse.data());
        return dot(out, go);
      };
      ref::attention_backward(d, q.data(), k.data(), v.data(), go.data(), dq.data(), dk.data(), dv.data());
      check_grad(q, dq, loss, 1e-2, 1e-3);
      check_grad(k, dk, loss, 1e-2, 1e-3);
      check_grad(v, dv, loss, 1e-2, 1e-3);
    }
}

TEST_CASE("reference statistics and their head summary", "[cuda][reference][stats]") {
  AttnDims d = small_dims(0, 0, 2, 2);
  d.B = 1;
  d.T = 6;
  const size_t n = size_t(d.Hq) * d.T * d.Dh;
  Rng rng(8);
  std::vector<float> q(n, 0.0f), k = random_vec(rng, n);
  const std::vector<int> tokens = {5, 7, 5, 7, 5, 9};
  StreamStats s;
  ref::attention_stats(d, q.data(), k.data(), tokens.data(), s);
  // Uniform causal rows: A[t,j] = 1/(t+1).
  for (int h = 0; h < d.Hq; ++h)
    for (int t = 0; t < d.T; ++t) {
      const int i = h * d.T + t;
      REQUIRE(s.entropy[i] == Approx(std::log(double(t + 1))).margin(1e-6));
      REQUIRE(s.row_max[i] == Approx(1.0 / (t + 1)));
      REQUIRE(s.prev_token[i] == Approx(t ? 1.0 / (t + 1) : 0.0));
      double col = 0;
      for (int u = t; u < d.T; ++u) col += 1.0 / (u + 1);
      REQUIRE(s.col_mass[i] == Approx(col));
    }
  // t = 4 (token 5): earlier 5s at 0, 2 -> duplicate 2/5; keys j with x[j-1] == 5: j = 1, 3 -> 2/5.
  CHECK(s.duplicate[4] == Approx(2.0 / 5));
  CHECK(s.induction[4] == Approx(2.0 / 5));
  CHECK(s.duplicate[5] == 0.0f);   // token 9 is new
  // Row t = 5 is uniform over 6 keys: top-k mass min(k, 6)/6; cumulative 1/6..5/6 <= 0.9, so k_0.9 = 6.
  const float* tk = &s.topk_mass[size_t(d.T + 5) * kTopKBudgets];
  CHECK(tk[0] == Approx(1.0 / 6));
  CHECK(tk[2] == Approx(4.0 / 6));
  CHECK(tk[3] == Approx(1.0));
  CHECK(s.cover[d.T + 5] == 6.0f);
  CHECK(s.cover[0] == 1.0f);  // one key holds everything
  CHECK(s.induction[1] == 0.0f);   // key 1 follows token 5, but query 1 is token 7

  const HeadSummary hs = summarize_head(d, s, 0, 1);
  CHECK(hs.norm_entropy == Approx(1.0));  // uniform rows have normalized entropy 1
  // Uniform rows need k_0.9 = n_t (n <= 9: every cumulative sum up to (n-1)/n <= 0.9), so the median is 1.
  CHECK(hs.cover_median == Approx(1.0));
  CHECK(hs.cover_censored == 0.0);
  CHECK(hs.topk[0] == Approx(hs.top1));
  CHECK(hs.sink_mass == Approx(s.col_mass[d.T] / d.T));
  CHECK(hs.alpha[d.T - 1] == Approx(1.0 / d.T));  // last key: seen only by the last query
  CHECK(hs.alpha[0] == Approx(s.col_mass[d.T] / d.T));
  double prev = 0;
  for (int t = 1; t < d.T; ++t) prev += 1.0 / (t + 1);
  CHECK(hs.prev_token == Approx(prev / (d.T - 1)));
  CHECK_THROWS_AS(summarize_head(d, s, 0, 2), Error);
  StreamStats wrong = s;
  wrong.entropy.pop_back();
  CHECK_THROWS_AS(summarize_head(d, wrong, 0, 0), Error);

  // A tile is the same numbers as the rows it cuts from.
  std::vector<float> tile(3 * 4);
  ref::attention_tile(d, q.data(), k.data(), TileRequest{0, 1, 2, 5, 1, 5}, tile.data());
  CHECK(tile[0] == Approx(1.0 / 3));     // (t=2, j=1)
  CHECK(tile[2] == 0.0f);                // (t=2, j=3) is in the future
  CHECK(tile[2 * 4 + 3] == Approx(0.2)); // (t=4, j=4)
}

TEST_CASE("reference ALiBi rows equal the CPU alibi variant, slopes included", "[cuda][reference][attention]") {
  // The kernels take their slopes and scores from the same code as this reference (mask.h),
  // so agreeing here ties the fused ALiBi path to core/attention's definition.
  for (int H : {1, 4, 6, 8, 12})
    for (const auto& [spec, window, sinks] : {std::tuple{"alibi", 0, 0}, std::tuple{"alibi+window(size=3,sinks=1)", 3, 1}}) {
      INFO(spec << " with " << H << " heads");
      AttnDims d;
      d.B = 1, d.Hq = H, d.Hkv = H, d.T = 9, d.Dh = 4, d.window = window, d.sinks = sinks, d.alibi = true;
      AttnBuildContext ctx;
      ctx.n_heads = H, ctx.head_dim = d.Dh, ctx.d_model = H * d.Dh, ctx.context = d.T;
      const auto attn = make_attention(spec, ctx);
      Rng rng{uint64_t(H)};
      const size_t n = size_t(H) * d.T * d.Dh;
      const std::vector<float> q = random_vec(rng, n), k = random_vec(rng, n), v = random_vec(rng, n);
      AttnInputs in;
      in.shape = AttnShape{1, H, d.T, d.Dh};
      in.q = q.data(), in.k = k.data(), in.v = v.data();
      std::vector<double> row(size_t(d.T));
      for (int h = 0; h < H; ++h)
        attn->pattern(in, 0, h, [&](int t, const float* cpu) {
          ref::attention_row(d, q.data(), k.data(), 0, h, t, row.data());
          for (int j = 0; j <= t; ++j) REQUIRE(row[size_t(j)] == Approx(cpu[j]).margin(1e-6));
        });
    }
}
