// The CUDA backend's host-side decisions: masks, tile skipping, launch plans, GEMM mapping.
#include <catch2/catch.hpp>

#include <vector>

#include "core/cuda/mask.h"
#include "core/cuda/plan.h"
#include "core/cuda/reference.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

using namespace attnlab;
using namespace attnlab::cuda;

TEST_CASE("key_visible follows causal, window and sinks", "[cuda][mask]") {
  CHECK(key_visible(5, 5, 0, 0));
  CHECK(key_visible(5, 0, 0, 0));
  CHECK_FALSE(key_visible(5, 6, 0, 0));
  // window 3: query 10 sees 8, 9, 10; with 2 sinks also 0 and 1.
  CHECK(key_visible(10, 8, 3, 0));
  CHECK_FALSE(key_visible(10, 7, 3, 0));
  CHECK_FALSE(key_visible(10, 0, 3, 0));
  CHECK(key_visible(10, 1, 3, 2));
  CHECK_FALSE(key_visible(10, 2, 3, 2));
  CHECK_FALSE(key_visible(1, 2, 3, 4));  // sinks never break causality
}

TEST_CASE("visible counts and tile skipping agree with brute force", "[cuda][mask]") {
  const int T = 70;
  for (int window : {0, 1, 3, 17, 32, 100})
    for (int sinks : {0, 1, 4, 40}) {
      for (int t = 0; t < T; ++t) {
        int n = 0;
        for (int j = 0; j < T; ++j) n += key_visible(t, j, window, sinks);
        REQUIRE(visible_count(t, window, sinks) == n);
      }
      for (int k = 0; k < T; ++k) {
        int n = 0;
        for (int t = 0; t < T; ++t) n += key_visible(t, k, window, sinks);
        REQUIRE(queries_seeing_key(k, T, window, sinks) == n);
      }
      for (int q0 = 0; q0 < T; q0 += 7)
        for (int k0 = 0; k0 < T; k0 += 5) {
          const int q1 = std::min(q0 + 9, T), k1 = std::min(k0 + 6, T);
          bool any = false;
          for (int t = q0; t < q1; ++t)
            for (int j = k0; j < k1; ++j) any = any || key_visible(t, j, window, sinks);
          INFO("window " << window << " sinks " << sinks << " q[" << q0 << "," << q1 << ") k[" << k0 << ","
                         << k1 << ")");
          REQUIRE(tile_has_visible(q0, q1, k0, k1, window, sinks) == any);
        }
    }
}

TEST_CASE("attention dims are validated with messages naming the field", "[cuda][plan]") {
  AttnDims d;
  d.B = 2, d.Hq = 6, d.Hkv = 4, d.T = 10, d.Dh = 16;
  CHECK_THROWS_WITH(validate(d), Catch::Contains("multiple of kv heads"));
  d.Hkv = 3;
  CHECK_NOTHROW(validate(d));
  d.Dh = 160;
  CHECK_THROWS_WITH(validate(d), Catch::Contains("head dim 160"));
  d.Dh = 16;
  d.window = -1;
  CHECK_THROWS_WITH(validate(d), Catch::Contains("window"));
  d.window = 0;
  d.T = 0;
  CHECK_THROWS_AS(validate(d), Error);
  d.T = 10;
  d.B = 70000;  // grid z: the launch would fail
  CHECK_THROWS_WITH(validate(d), Catch::Contains("65535"));
  d.B = 2;
  CHECK(d.effective_scale() == Approx(0.25f));
  d.scale = 0.5f;
  CHECK(d.effective_scale() == 0.5f);
}

TEST_CASE("attention launch plans cover every row and fit shared memory", "[cuda][plan]") {
  for (int Dh : {1, 8, 31, 32, 33, 64, 80, 96, 128})
    for (int T : {1, 31, 32, 33, 1000}) {
      AttnDims d;
      d.B = 3, d.Hq = 8, d.Hkv = 2, d.T = T, d.Dh = Dh;
      for (auto which : {AttnKernel::forward, AttnKernel::backward_dq, AttnKernel::backward_dkv,
                         AttnKernel::statistics}) {
        const LaunchPlan p = plan_attention(which, d);
        INFO(p.describe());
        REQUIRE(int64_t(p.grid_x) * kTile >= T);
        REQUIRE(int64_t(p.grid_x - 1) * kTile < T);
        REQUIRE(p.grid_y == (which == AttnKernel::backward_dkv ? 2 : 8));
        REQUIRE(p.grid_z == 3);
        REQUIRE(p.block == kWarps * 32);
        REQUIRE(kWarps * kRowsPerWarp == kTile);
        REQUIRE(p.dim_chunks * 32 >= Dh);
        REQUIRE((p.dim_chunks == 1 || p.dim_chunks == 2 || p.dim_chunks == 4));
        REQUIRE(p.smem_bytes <= kMaxSmemBytes);
        REQUIRE(p.smem_bytes >= int64_t(which == AttnKernel::statistics ? 2 : 3) * kTile * Dh * 4);
      }
    }
}

TEST_CASE("tile requests outside the map are rejected", "[cuda][plan]") {
  AttnDims d;
  d.B = 1, d.Hq = 2, d.Hkv = 2, d.T = 16, d.Dh = 8;
  CHECK_NOTHROW(validate(TileRequest{0, 1, 0, 16, 0, 16}, d));
  CHECK_THROWS_WITH(validate(TileRequest{0, 2, 0, 4, 0, 4}, d), Catch::Contains("head 2"));
  CHECK_THROWS_WITH(validate(TileRequest{1, 0, 0, 4, 0, 4}, d), Catch::Contains("batch index 1"));
  CHECK_THROWS_WITH(validate(TileRequest{0, 0, 4, 4, 0, 4}, d), Catch::Contains("query rows"));
  CHECK_THROWS_WITH(validate(TileRequest{0, 0, 0, 4, 3, 17}, d), Catch::Contains("key columns"));
}

TEST_CASE("row and element-wise plans", "[cuda][plan]") {
  CHECK(plan_rows(10, 1).block == 32);
  CHECK(plan_rows(10, 768).block == 1024);
  CHECK(plan_rows(10, 100).block == 128);
  CHECK(plan_rows(7, 50257).grid == 7);
  CHECK(plan_rows(7, 50257).block == 1024);
  CHECK_THROWS_AS(plan_rows(0, 5), Error);
  CHECK(elementwise_grid(1) == 1);
  CHECK(elementwise_grid(257) == 2);
  CHECK(elementwise_grid(int64_t(1) << 40) == 65535 * 16);
}

TEST_CASE("row-major GEMMs map onto column-major cuBLAS arguments", "[cuda][plan][gemm]") {
  Rng rng(3);
  const int M = 5, N = 7, K = 4;
  std::vector<float> A(M * K), B(K * N), C0(M * N);
  for (auto& x : A) x = rng.uniformf(-1, 1);
  for (auto& x : B) x = rng.uniformf(-1, 1);
  for (auto& x : C0) x = rng.uniformf(-1, 1);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<float> want = C0, got = C0;
      ref::gemm(ta, tb, M, N, K, 0.7f, A.data(), B.data(), 0.3f, want.data());
      const CublasGemmArgs g = rowmajor_gemm_args(ta, tb, M, N, K);
      CHECK(g.ldc == N);
      colmajor_gemm_emulate(g, 0.7f, B.data(), A.data(), 0.3f, got.data());
      for (int i = 0; i < M * N; ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-6));
    }
  // Known answer: [1 2; 3 4] x [5; 6] = [17; 39].
  std::vector<float> a = {1, 2, 3, 4}, b = {5, 6}, c(2);
  ref::gemm(false, false, 2, 1, 2, 1.0f, a.data(), b.data(), 0.0f, c.data());
  CHECK(c == std::vector<float>{17, 39});
  CHECK_THROWS_AS(rowmajor_gemm_args(false, false, 0, 1, 1), Error);
}

TEST_CASE("column-reduction plans cover every column and spread rows", "[cuda][plan]") {
  for (int64_t N : {1, 37, 8192, 1 << 24})
    for (int64_t C : {1, 5, 32, 768, 3072, 50257}) {
      const ColumnPlan p = plan_columns(N, C);
      REQUIRE(int64_t(p.grid_x) * 32 >= C);
      REQUIRE(int64_t(p.grid_x - 1) * 32 < C);
      REQUIRE(p.grid_y >= 1);
      REQUIRE(p.grid_y <= 65535);
      REQUIRE(int64_t(p.grid_y) <= std::max<int64_t>(1, (N + 63) / 64));  // slices of at least 64 rows
    }
  CHECK(plan_columns(8192, 768).grid_y == 42);
  AttnDims d;
  d.T = 100, d.Dh = 64;
  CHECK(plan_attention(AttnKernel::forward, d).smem_bytes == 4 * (32 * 64 + 32 * 65 + 32 * 64));
  CHECK(plan_attention(AttnKernel::backward_dkv, d).smem_bytes == 4 * (2 * 32 * 64 + 2 * 32 * 65 + 64));  // 24 column blocks x 42 row slices ~ 1000 blocks
  CHECK_THROWS_AS(plan_columns(0, 3), Error);
}
