// Every element-wise/row-wise kernel and GEMM against the CPU references (reference.h) and, where
// its API is the same operation, against the CPU backend's own layer functions (core/layers).
#include <catch2/catch.hpp>

#include "core/cuda/gemm.h"
#include "core/cuda/ops.h"
#include "core/cuda/reference.h"
#include "core/layers/activation.h"
#include "core/layers/norm.h"
#include "core/layers/rope.h"
#include "gpu_check.h"

using namespace attnlab;
using namespace attnlab::cuda;
using namespace attnlab::cuda::test;

TEST_CASE("gpu RMSNorm forward and backward", "[gpu][ops]") {
  Rng rng(11);
  for (int C : {7, 100, 1500}) {
    const int N = 37;
    auto x = normal_vec(rng, N * C), w = random_vec(rng, C, 0.5, 1.5), dy = normal_vec(rng, N * C);
    auto dw0 = random_vec(rng, C);
    std::vector<float> y(N * C), rstd(N), dx(N * C), dw = dw0;
    ref::rmsnorm_forward(x.data(), w.data(), N, C, 1e-5f, y.data(), rstd.data());
    ref::rmsnorm_backward(dy.data(), x.data(), w.data(), rstd.data(), N, C, dx.data(), dw.data());
    DeviceBuffer<float> gx(x), gw(w), gy(N * C), gr(N), gdy(dy), gdx(N * C), gdw(dw0);
    rmsnorm_forward(gx.get(), gw.get(), N, C, 1e-5f, gy.get(), gr.get());
    rmsnorm_backward(gdy.get(), gx.get(), gw.get(), gr.get(), N, C, gdx.get(), gdw.get());
    expect_close(gy.to_host(), y, "rmsnorm y");
    expect_close(gr.to_host(), rstd, "rmsnorm rstd");
    expect_close(gdx.to_host(), dx, "rmsnorm dx");
    expect_close(gdw.to_host(), dw, "rmsnorm dw (accumulated)");
    // The CPU backend's own layer agrees too.
    std::vector<float> y2(N * C), r2(N);
    attnlab::rmsnorm_forward(y2.data(), r2.data(), x.data(), w.data(), N, C, 1e-5f);
    expect_close(gy.to_host(), y2, "rmsnorm y vs CPU backend");
  }
}

TEST_CASE("gpu LayerNorm forward and backward", "[gpu][ops]") {
  Rng rng(12);
  for (int C : {5, 768}) {
    const int N = C == 5 ? 29 : 3000;  // 3000 rows: several row slices in the column reduction
    auto x = normal_vec(rng, N * C), w = random_vec(rng, C, 0.5, 1.5), b = random_vec(rng, C),
         dy = normal_vec(rng, N * C);
    std::vector<float> y(N * C), mean(N), rstd(N), dx(N * C), dw(C, 0.0f), db(C, 0.0f);
    ref::layernorm_forward(x.data(), w.data(), b.data(), N, C, 1e-5f, y.data(), mean.data(), rstd.data());
    ref::layernorm_backward(dy.data(), x.data(), w.data(), mean.data(), rstd.data(), N, C, dx.data(), dw.data(),
                            db.data());
    DeviceBuffer<float> gx(x), gw(w), gb(b), gy(N * C), gm(N), gr(N), gdy(dy), gdx(N * C), gdw(C), gdb(C);
    gdw.zero();
    gdb.zero();
    layernorm_forward(gx.get(), gw.get(), gb.get(), N, C, 1e-5f, gy.get(), gm.get(), gr.get());
    layernorm_backward(gdy.get(), gx.get(), gw.get(), gm.get(), gr.get(), N, C, gdx.get(), gdw.get(), gdb.get());
    expect_close(gy.to_host(), y, "layernorm y");
    expect_close(gdx.to_host(), dx, "layernorm dx");
    expect_close(gdw.to_host(), dw, "layernorm dw");
    expect_close(gdb.to_host(), db, "layernorm db");
    std::vector<float> y2(N * C), m2(N), r2(N);
    attnlab::layernorm_forward(y2.data(), m2.data(), r2.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
    expect_close(gy.to_host(), y2, "layernorm y vs CPU backend");
  }
}

TEST_CASE("gpu GELU and SwiGLU", "[gpu][ops]") {
  Rng rng(13);
  const int n = 10007;
  auto x = random_vec(rng, n, -5, 5), u = normal_vec(rng, n), dy = normal_vec(rng, n);
  DeviceBuffer<float> gx(x), gu(u), gdy(dy), gy(n), gd1(n), gd2(n);
  for (bool approx : {false, true}) {
    std::vector<float> y(n), dx(n);
    ref::gelu_forward(x.data(), n, approx, y.data());
    ref::gelu_backward(dy.data(), x.data(), n, approx, dx.data());
    gelu_forward(gx.get(), n, approx, gy.get());
    gelu_backward(gdy.get(), gx.get(), n, approx, gd1.get());
    expect_close(gy.to_host(), y, approx ? "gelu_tanh" : "gelu");
    expect_close(gd1.to_host(), dx, approx ? "gelu_tanh backward" : "gelu backward");
    std::vector<float> y2(n);
    attnlab::gelu_forward(y2.data(), x.data(), n, approx);
    expect_close(gy.to_host(), y2, "gelu vs CPU backend");
  }
  std::vector<float> y(n), dg(n), du(n);
  ref::swiglu_forward(x.data(), u.data(), n, y.data());
  ref::swiglu_backward(dy.data(), x.data(), u.data(), n, dg.data(), du.data());
  swiglu_forward(gx.get(), gu.get(), n, gy.get());
  swiglu_backward(gdy.get(), gx.get(), gu.get(), n, gd1.get(), gd2.get());
  expect_close(gy.to_host(), y, "swiglu");
  expect_close(gd1.to_host(), dg, "swiglu dgate");
  expect_close(gd2.to_host(), du, "swiglu dup");
}

TEST_CASE("gpu RoPE, both pairings, partial rotary, inverse", "[gpu][ops]") {
  Rng rng(14);
  const int B = 2, H = 3, T = 300, Dh = 16;
  auto x = normal_vec(rng, B * H * T * Dh);
  for (bool inter : {true, false})
    for (int rot : {16, 4}) {
      auto want = x;
      ref::rope_apply(want.data(), B, H, T, Dh, rot, 10000.0f, inter, false);
      DeviceBuffer<float> g(x);
      rope_apply(g.get(), B, H, T, Dh, rot, 10000.0f, inter, false);
      expect_close(g.to_host(), want, "rope");
      auto cpu = x;
      attnlab::rope_apply(cpu.data(), B, H, T, Dh, rot, 10000.0f,
                          inter ? RopeStyle::interleaved : RopeStyle::half, false);
      expect_close(g.to_host(), cpu, "rope vs CPU backend");
      rope_apply(g.get(), B, H, T, Dh, rot, 10000.0f, inter, true);
      expect_close(g.to_host(), x, "rope inverse undoes forward");
    }
  DeviceBuffer<float> g(x);
  CHECK_THROWS_AS(rope_apply(g.get(), B, H, T, Dh, 5, 1e4f, true, false), Error);
}

TEST_CASE("gpu softmax cross-entropy", "[gpu][ops]") {
  Rng rng(15);
  const int N = 21, V = 1000;
  auto z = normal_vec(rng, N * V, 3.0);
  std::vector<int> y(N);
  for (auto& t : y) t = int(rng.below(V));
  y[3] = -1;
  std::vector<float> loss(N), dz(N * V);
  ref::softmax_cross_entropy(z.data(), y.data(), N, V, 1.0f / 20, loss.data(), dz.data());
  DeviceBuffer<float> gz(z), gl(N), gdz(N * V);
  DeviceBuffer<int> gyb(y);
  softmax_cross_entropy(gz.get(), gyb.get(), N, V, 1.0f / 20, gl.get(), gdz.get());
  expect_close(gl.to_host(), loss, "xent loss");
  expect_close(gdz.to_host(), dz, "xent dlogits");
  softmax_cross_entropy(gz.get(), gyb.get(), N, V, 1.0f / 20, gl.get(), gz.get());  // in place
  expect_close(gz.to_host(), dz, "xent dlogits in place");
}

TEST_CASE("gpu AdamW, grad norm, scale, bias", "[gpu][ops]") {
  Rng rng(16);
  const int n = 5000;
  auto p = normal_vec(rng, n), m = std::vector<float>(n, 0.0f), v = m;
  DeviceBuffer<float> gp(p), gm(m), gv(v);
  for (int t = 1; t <= 3; ++t) {
    auto g = normal_vec(rng, n);
    ref::adamw_step(p.data(), g.data(), m.data(), v.data(), n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, t);
    DeviceBuffer<float> gg(g);
    adamw_step(gp.get(), gg.get(), gm.get(), gv.get(), n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, t);
  }
  expect_close(gp.to_host(), p, "adamw p");
  expect_close(gm.to_host(), m, "adamw m");
  expect_close(gv.to_host(), v, "adamw v");

  double ss = 0;
  for (float x : p) ss += double(x) * x;
  DeviceBuffer<float> acc(std::vector<float>{1.0f});
  sum_squares_accumulate(gp.get(), n, acc.get());
  expect_close(acc.to_host(), {float(ss + 1)}, "sum of squares");
  scale_inplace(gp.get(), n, 0.5f);
  for (auto& x : p) x *= 0.5f;
  expect_close(gp.to_host(), p, "scale");

  const int N = 3333, C = 70;  // many row slices: the bias gradient adds partial sums
  auto y = normal_vec(rng, N * C), bias = normal_vec(rng, C), db0 = normal_vec(rng, C);
  auto want = y, db = db0;
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) want[i * C + c] += bias[c], db[c] += y[i * C + c];
  DeviceBuffer<float> gy(y), gb(bias), gdb(db0);
  bias_backward(gy.get(), N, C, gdb.get());
  add_bias(gy.get(), gb.get(), N, C);
  expect_close(gy.to_host(), want, "add_bias");
  expect_close(gdb.to_host(), db, "bias_backward");
}

TEST_CASE("gpu GEMM wrappers: transposes, batches, TF32, Linear", "[gpu][gemm]") {
  Rng rng(17);
  const int M = 37, N = 53, K = 29;
  auto A = normal_vec(rng, M * K), B = normal_vec(rng, K * N), C0 = normal_vec(rng, M * N);
  Blas fp32(0, Precision::fp32), tf32(0, Precision::tf32), bf16(0, Precision::bf16);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      auto want = C0;
      ref::gemm(ta, tb, M, N, K, 0.5f, A.data(), B.data(), 2.0f, want.data());
      DeviceBuffer<float> gA(A), gB(B), gC(C0);
      gemm(fp32, ta, tb, M, N, K, 0.5f, gA.get(), gB.get(), 2.0f, gC.get());
      expect_close(gC.to_host(), want, "sgemm");
      gC.upload(C0);
      gemm(tf32, ta, tb, M, N, K, 0.5f, gA.get(), gB.get(), 2.0f, gC.get());
      expect_close(gC.to_host(), want, "tf32 gemm (10-bit mantissa inputs)", 2e-2);
      gC.upload(C0);
      gemm(bf16, ta, tb, M, N, K, 0.5f, gA.get(), gB.get(), 2.0f, gC.get());
      // bf16 rounds inputs to 8 significant bits (rel. 2^-8): K=29 products of N(0,1) give
      // errors around 0.5*sqrt(29)*2*2^-8 ~ 0.02 absolute; 8e-2 is the stated tolerance.
      expect_close(gC.to_host(), want, "bf16 gemm (7-bit mantissa inputs)", 8e-2);
    }
  const int batch = 3;
  auto Ab = normal_vec(rng, batch * M * K), Bb = normal_vec(rng, batch * K * N);
  std::vector<float> want(batch * M * N, 0.0f);
  for (int i = 0; i < batch; ++i)
    ref::gemm(false, false, M, N, K, 1.0f, &Ab[i * M * K], &Bb[i * K * N], 0.0f, &want[i * M * N]);
  DeviceBuffer<float> gA(Ab), gB(Bb), gC(batch * M * N);
  gemm_strided_batched(fp32, false, false, M, N, K, 1.0f, gA.get(), M * K, gB.get(), K * N, 0.0f, gC.get(), M * N,
                       batch);
  expect_close(gC.to_host(), want, "strided batched gemm");

  // Linear: y = x W^T + b, and its backward.
  const int rows = 17, in = 24, out = 40;
  auto x = normal_vec(rng, rows * in), W = normal_vec(rng, out * in), b = normal_vec(rng, out),
       dy = normal_vec(rng, rows * out);
  std::vector<float> y(rows * out), dx(rows * in), dW(out * in, 0.0f), db(out, 0.0f);
  ref::gemm(false, true, rows, out, in, 1.0f, x.data(), W.data(), 0.0f, y.data());
  for (int r = 0; r < rows; ++r)
    for (int o = 0; o < out; ++o) y[r * out + o] += b[o];
  ref::gemm(false, false, rows, in, out, 1.0f, dy.data(), W.data(), 0.0f, dx.data());
  ref::gemm(true, false, out, in, rows, 1.0f, dy.data(), x.data(), 1.0f, dW.data());
  for (int r = 0; r < rows; ++r)
    for (int o = 0; o < out; ++o) db[o] += dy[r * out + o];
  DeviceBuffer<float> gx(x), gW(W), gb(b), gy(rows * out), gdy(dy), gdx(rows * in), gdW(out * in), gdb(out);
  gdW.zero();
  gdb.zero();
  linear_forward(fp32, gx.get(), gW.get(), gb.get(), rows, in, out, gy.get());
  linear_backward(fp32, gdy.get(), gx.get(), gW.get(), rows, in, out, gdx.get(), gdW.get(), gdb.get());
  expect_close(gy.to_host(), y, "linear y");
  expect_close(gdx.to_host(), dx, "linear dx");
  expect_close(gdW.to_host(), dW, "linear dW");
  expect_close(gdb.to_host(), db, "linear db");
}
