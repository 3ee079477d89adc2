// SGEMM rate (GFLOP/s) of attnlab's GEMM path: 1024^3 on each available backend (best of
// `reps` interleaved rounds), then the
// products of one training step of the bench model (bench_train's GPT-2 shape: linear layers
// forward, dx and dW) through linear_forward / linear_backward, as a share of the 1024^3 rate.
// bench/sgemm_rate.py prints the same 1024^3 rate for PyTorch; bench/*.sh print both.
//   bench_gemm [reps=5] [batch=16] [seq=256]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "core/layers/gemm.h"
#include "core/layers/linear.h"
#include "core/model/config.h"

using namespace attnlab;

// Best of `reps` timings of fn, each repeated until it has run for at least 0.2 s.
static double best_seconds(int reps, const std::function<void()>& fn) {
  fn();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    int n = 0;
    auto t0 = std::chrono::steady_clock::now();
    double dt = 0;
    do {
      fn();
      ++n;
      dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (dt < 0.2);
    best = std::min(best, dt / n);
  }
  return best;
}

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  const int B = argc > 2 ? std::atoi(argv[2]) : 16, T = argc > 3 ? std::atoi(argv[3]) : 256;
  const int n = 1024;
  std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n);
  // The backends take turns, round by round, so drift on a shared machine hits both alike.
  std::vector<GemmBackend> backends;
  for (GemmBackend be : {GemmBackend::openblas, GemmBackend::eigen})
    if (gemm_backend_available(be)) backends.push_back(be);
  std::vector<double> best(backends.size(), 0.0);
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < backends.size(); ++i) {
      const double s = best_seconds(1, [&] {
        sgemm_on(backends[i], false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(),
                 n);
      });
      best[i] = std::max(best[i], 2.0 * n * n * n / s / 1e9);
    }
  double square = 0;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (backends[i] == gemm_backend()) square = best[i];
    std::printf("attnlab sgemm_1024_gflops %.1f %s%s\n", best[i],
                backends[i] == GemmBackend::openblas ? "openblas" : "eigen",
                backends[i] == gemm_backend() ? " (in use)" : "");
  }
  std::printf("attnlab gemm_backend %s\n", gemm_backend_name().c_str());

  // The linear layers of one training step of the bench model: per block q, k, v, o (D -> D),
  // w1 (D -> F), w2 (F -> D); the tied head (D -> V). Forward, dx and dW of each.
  const ModelConfig cfg = preset_config("gpt2-bench");
  const int N = B * T, D = cfg.d_model, F = cfg.d_ff, V = cfg.vocab_size;
  struct Shape {
    int in, out, count;
  };
  const std::vector<Shape> shapes = {
      {D, D, 4 * cfg.n_layers}, {D, F, cfg.n_layers}, {F, D, cfg.n_layers}, {D, V, 1}};
  int widest = 0;
  for (const Shape& s : shapes) widest = std::max({widest, s.in, s.out});
  std::vector<float> x(size_t(N) * widest, 0.01f), y(size_t(N) * widest), dx(size_t(N) * widest),
      W(size_t(widest) * widest, 0.02f), bias(size_t(widest), 0.0f), dW(size_t(widest) * widest),
      db(widest, 0.0f);
  double flops = 0;
  const double s = best_seconds(reps, [&] {
    for (const Shape& sh : shapes)
      for (int i = 0; i < sh.count; ++i) {
        linear_forward(y.data(), x.data(), W.data(), bias.data(), N, sh.in, sh.out);
        linear_backward(dx.data(), dW.data(), db.data(), y.data(), x.data(), W.data(), N, sh.in,
                        sh.out);
      }
  });
  for (const Shape& sh : shapes) flops += 3.0 * 2.0 * N * sh.in * sh.out * sh.count;
  const double gf = flops / s / 1e9;
  std::printf(
      "attnlab model_gemm_gflops %.1f (%.0f%% of the 1024^3 rate; %d linear shapes of a "
      "training step, B=%d T=%d)\n",
      gf, 100.0 * gf / square, int(shapes.size()), B, T);
  return 0;
}
