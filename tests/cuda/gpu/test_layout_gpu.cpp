// Data-movement kernels of the training step against plain loops.
#include <catch2/catch.hpp>

#include "core/cuda/ops.h"
#include "gpu_check.h"

using namespace attnlab;
using namespace attnlab::cuda;
using namespace attnlab::cuda::test;

TEST_CASE("gpu residual adds", "[gpu][layout]") {
  Rng rng(31);
  const int n = 1000;
  auto a = normal_vec(rng, n), b = normal_vec(rng, n);
  std::vector<float> sum(n);
  for (int i = 0; i < n; ++i) sum[i] = a[i] + b[i];
  DeviceBuffer<float> ga(a), gb(b), go(n);
  add(ga.get(), gb.get(), n, go.get());
  expect_close(go.to_host(), sum, "add");
  add_inplace(ga.get(), gb.get(), n);
  expect_close(ga.to_host(), sum, "add_inplace");
}

TEST_CASE("gpu embeddings forward and backward", "[gpu][layout]") {
  Rng rng(32);
  const int B = 2, T = 5, C = 7, V = 4;
  auto wte = normal_vec(rng, V * C), wpe = normal_vec(rng, T * C), dout = normal_vec(rng, B * T * C);
  std::vector<int> tok = {0, 3, 3, 1, 0, 2, 3, 3, 3, 0};
  std::vector<float> out(B * T * C), dwte(V * C, 0.0f), dwpe(T * C, 0.0f);
  for (int bt = 0; bt < B * T; ++bt)
    for (int c = 0; c < C; ++c) {
      out[bt * C + c] = wte[tok[bt] * C + c] + wpe[(bt % T) * C + c];
      dwte[tok[bt] * C + c] += dout[bt * C + c];
      dwpe[(bt % T) * C + c] += dout[bt * C + c];
    }
  DeviceBuffer<int> gt(tok);
  DeviceBuffer<float> gwte(wte), gwpe(wpe), gout(B * T * C), gdout(dout), gdwte(V * C), gdwpe(T * C);
  gdwte.zero();
  gdwpe.zero();
  embedding_forward(gt.get(), gwte.get(), gwpe.get(), B, T, C, gout.get());
  embedding_backward(gt.get(), gdout.get(), B, T, C, gdwte.get(), gdwpe.get());
  expect_close(gout.to_host(), out, "embedding forward");
  expect_close(gdwte.to_host(), dwte, "embedding dwte");
  expect_close(gdwpe.to_host(), dwpe, "embedding dwpe");
}

TEST_CASE("gpu qkv split and head merge are permutations with exact inverses", "[gpu][layout]") {
  Rng rng(33);
  const int B = 2, T = 3, Hq = 4, Hkv = 2, Dh = 5, W = (Hq + 2 * Hkv) * Dh;
  auto qkv = normal_vec(rng, B * T * W);
  std::vector<float> q(B * Hq * T * Dh), k(B * Hkv * T * Dh), v(k.size());
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int d = 0; d < Dh; ++d) {
        const float* row = &qkv[(b * T + t) * W];
        for (int h = 0; h < Hq; ++h) q[((b * Hq + h) * T + t) * Dh + d] = row[h * Dh + d];
        for (int h = 0; h < Hkv; ++h) {
          k[((b * Hkv + h) * T + t) * Dh + d] = row[(Hq + h) * Dh + d];
          v[((b * Hkv + h) * T + t) * Dh + d] = row[(Hq + Hkv + h) * Dh + d];
        }
      }
  DeviceBuffer<float> gqkv(qkv), gq(q.size()), gk(k.size()), gv(v.size()), back(qkv.size());
  split_qkv(gqkv.get(), B, T, Hq, Hkv, Dh, gq.get(), gk.get(), gv.get());
  expect_close(gq.to_host(), q, "split q", 0.0);
  expect_close(gk.to_host(), k, "split k", 0.0);
  expect_close(gv.to_host(), v, "split v", 0.0);
  split_qkv_backward(gq.get(), gk.get(), gv.get(), B, T, Hq, Hkv, Dh, back.get());
  expect_close(back.to_host(), qkv, "split_qkv_backward", 0.0);

  std::vector<float> rows(B * T * Hq * Dh);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Hq; ++h)
      for (int t = 0; t < T; ++t)
        for (int d = 0; d < Dh; ++d) rows[(b * T + t) * Hq * Dh + h * Dh + d] = q[((b * Hq + h) * T + t) * Dh + d];
  DeviceBuffer<float> grows(rows.size()), gheads(q.size());
  merge_heads(gq.get(), B, Hq, T, Dh, grows.get());
  expect_close(grows.to_host(), rows, "merge_heads", 0.0);
  merge_heads_backward(grows.get(), B, Hq, T, Dh, gheads.get());
  expect_close(gheads.to_host(), q, "merge_heads_backward", 0.0);
}
