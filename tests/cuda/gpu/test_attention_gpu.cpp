// Fused attention kernels against the materializing CPU reference: forward, backward, the
// statistics pass and tile recomputation, over head dims, lengths, GQA, windows and sinks.
#include <catch2/catch.hpp>

#include "core/cuda/attention.h"
#include "core/cuda/reference.h"
#include "gpu_check.h"

using namespace attnlab;
using namespace attnlab::cuda;
using namespace attnlab::cuda::test;

namespace {

struct Case {
  int B, Hq, Hkv, T, Dh, window, sinks;
  bool alibi = false;
};

// Head dims across the three kernel instances (1, 2, 4 dims per lane) and odd sizes; lengths
// around the 32-row tile; MHA and GQA; causal, windowed, windowed with sinks.
const std::vector<Case> kCases = {
    {1, 1, 1, 1, 8, 0, 0},     {2, 4, 4, 33, 8, 0, 0},    {1, 4, 2, 70, 32, 0, 0},
    {1, 6, 2, 64, 64, 0, 0},   {1, 2, 1, 45, 80, 0, 0},   {1, 2, 2, 97, 128, 0, 0},
    {2, 4, 1, 100, 16, 20, 0}, {1, 4, 2, 130, 24, 7, 4},  {1, 2, 2, 64, 64, 33, 1},
    {1, 3, 3, 40, 3, 1, 0},
    // T = 2 with Dh 48 (two dims per lane, the second chunk half empty) and 4:1 GQA; GQA with
    // window and sinks at a length off the tile grid; a window wider than T; window 1 with more
    // sinks than window (rows see their sinks and themselves only).
    {1, 4, 1, 2, 48, 0, 0},    {2, 8, 2, 67, 48, 5, 3},   {1, 2, 1, 50, 128, 64, 2},
    {1, 2, 2, 75, 40, 1, 3},
    // ALiBi: 8 heads (the power-of-two series), 6 heads (the interleaved extra slopes), with GQA
    // and with a window and sinks.
    {1, 8, 8, 70, 32, 0, 0, true}, {2, 6, 2, 45, 16, 0, 0, true}, {1, 4, 2, 90, 64, 20, 2, true},
};

AttnDims dims_of(const Case& c) {
  AttnDims d;
  d.B = c.B, d.Hq = c.Hq, d.Hkv = c.Hkv, d.T = c.T, d.Dh = c.Dh, d.window = c.window, d.sinks = c.sinks;
  d.alibi = c.alibi;
  return d;
}

std::string name_of(const Case& c) {
  return "B" + std::to_string(c.B) + " Hq" + std::to_string(c.Hq) + " Hkv" + std::to_string(c.Hkv) + " T" +
         std::to_string(c.T) + " Dh" + std::to_string(c.Dh) + " window" + std::to_string(c.window) + " sinks" +
         std::to_string(c.sinks) + (c.alibi ? " alibi" : "");
}

struct Inputs {
  std::vector<float> q, k, v;
  Inputs(const AttnDims& d, Rng& rng) {
    const size_t nq = size_t(d.B) * d.Hq * d.T * d.Dh, nkv = size_t(d.B) * d.Hkv * d.T * d.Dh;
    // sd 1.5 gives peaked and flat rows alike after the 1/sqrt(Dh) scale.
    q = normal_vec(rng, nq, 1.5);
    k = normal_vec(rng, nkv, 1.5);
    v = normal_vec(rng, nkv);
  }
};

}  // namespace

TEST_CASE("gpu flash attention forward matches the reference", "[gpu][attention]") {
  Rng rng(21);
  for (const Case& c : kCases) {
    INFO(name_of(c));
    const AttnDims d = dims_of(c);
    Inputs in(d, rng);
    std::vector<float> out(in.q.size()), lse(size_t(d.B) * d.Hq * d.T);
    ref::attention_forward(d, in.q.data(), in.k.data(), in.v.data(), out.data(), lse.data());
    DeviceBuffer<float> gq(in.q), gk(in.k), gv(in.v), go(out.size()), gl(lse.size());
    flash_attention_forward(d, gq.get(), gk.get(), gv.get(), go.get(), gl.get());
    expect_close(go.to_host(), out, "out " + name_of(c));
    expect_close(gl.to_host(), lse, "lse " + name_of(c));
  }
}

TEST_CASE("gpu flash attention backward matches the reference", "[gpu][attention]") {
  Rng rng(22);
  for (const Case& c : kCases) {
    INFO(name_of(c));
    const AttnDims d = dims_of(c);
    Inputs in(d, rng);
    auto dout = normal_vec(rng, in.q.size());
    std::vector<float> dq(in.q.size()), dk(in.k.size()), dv(in.v.size());
    ref::attention_backward(d, in.q.data(), in.k.data(), in.v.data(), dout.data(), dq.data(), dk.data(), dv.data());
    const size_t rows = size_t(d.B) * d.Hq * d.T;
    DeviceBuffer<float> gq(in.q), gk(in.k), gv(in.v), go(in.q.size()), gl(rows), gdo(dout), gdelta(rows),
        gdq(dq.size()), gdk(dk.size()), gdv(dv.size());
    flash_attention_forward(d, gq.get(), gk.get(), gv.get(), go.get(), gl.get());
    flash_attention_backward(d, gq.get(), gk.get(), gv.get(), go.get(), gdo.get(), gl.get(), gdelta.get(),
                             gdq.get(), gdk.get(), gdv.get());
    expect_close(gdq.to_host(), dq, "dq " + name_of(c));
    expect_close(gdk.to_host(), dk, "dk " + name_of(c));
    expect_close(gdv.to_host(), dv, "dv " + name_of(c));
  }
}

TEST_CASE("gpu fused statistics equal the reference statistics", "[gpu][attention][stats]") {
  Rng rng(23);
  for (const Case& c : kCases) {
    INFO(name_of(c));
    const AttnDims d = dims_of(c);
    Inputs in(d, rng);
    std::vector<int> tokens(size_t(d.B) * d.T);
    for (auto& t : tokens) t = int(rng.below(6));  // small vocabulary: many repeats
    StreamStats want, got;
    ref::attention_stats(d, in.q.data(), in.k.data(), tokens.data(), want);
    DeviceBuffer<float> gq(in.q), gk(in.k), gv(in.v), go(in.q.size()), gl(size_t(d.B) * d.Hq * d.T);
    DeviceBuffer<int> gt(tokens);
    attention_forward_with_stats(d, gq.get(), gk.get(), gv.get(), gt.get(), go.get(), gl.get(), got);
    expect_close(got.col_mass, want.col_mass, "col_mass");
    expect_close(got.entropy, want.entropy, "entropy");
    expect_close(got.prev_token, want.prev_token, "prev_token");
    expect_close(got.induction, want.induction, "induction");
    expect_close(got.duplicate, want.duplicate, "duplicate");
    expect_close(got.row_max, want.row_max, "row_max");
    expect_close(got.topk_mass, want.topk_mass, "topk_mass");
    // k_0.9 is an integer read off a cumulative sum: float rounding may move it by one where a
    // cumulative sum sits at 0.9 within rounding, so allow +-1 on at most 1% of rows.
    REQUIRE(got.cover.size() == want.cover.size());
    size_t off = 0;
    for (size_t i = 0; i < got.cover.size(); ++i) {
      REQUIRE(std::abs(got.cover[i] - want.cover[i]) <= 1.0f);
      off += got.cover[i] != want.cover[i];
    }
    CHECK(off <= got.cover.size() / 100);
    const HeadSummary a = summarize_head(d, got, d.B - 1, d.Hq - 1), b = summarize_head(d, want, d.B - 1, d.Hq - 1);
    CHECK(a.sink_mass == Approx(b.sink_mass).margin(1e-5));
    CHECK(a.norm_entropy == Approx(b.norm_entropy).margin(1e-5));
    // Without tokens the token-matching sums are zero.
    attention_forward_with_stats(d, gq.get(), gk.get(), gv.get(), nullptr, go.get(), gl.get(), got);
    for (float x : got.induction) REQUIRE(x == 0.0f);
  }
}

TEST_CASE("gpu attention tile recomputation", "[gpu][attention][tile]") {
  Rng rng(24);
  for (const Case& c : kCases) {
    INFO(name_of(c));
    const AttnDims d = dims_of(c);
    Inputs in(d, rng);
    const TileRequest r{d.B - 1, d.Hq - 1, d.T / 3, d.T, 0, std::max(1, d.T / 2 + 1)};
    const size_t n = size_t(r.t1 - r.t0) * (r.j1 - r.j0);
    std::vector<float> want(n);
    ref::attention_tile(d, in.q.data(), in.k.data(), r, want.data());
    DeviceBuffer<float> gq(in.q), gk(in.k), gv(in.v), go(in.q.size()), gl(size_t(d.B) * d.Hq * d.T), gtile(n);
    attention_tile(d, gq.get(), gk.get(), nullptr, r, gtile.get());
    expect_close(gtile.to_host(), want, "tile, normalizers recomputed");
    flash_attention_forward(d, gq.get(), gk.get(), gv.get(), go.get(), gl.get());
    attention_tile(d, gq.get(), gk.get(), gl.get(), r, gtile.get());
    expect_close(gtile.to_host(), want, "tile, normalizers from the forward");
  }
  AttnDims d = dims_of(kCases[1]);
  DeviceBuffer<float> dummy(1);
  CHECK_THROWS_WITH(attention_tile(d, dummy.get(), dummy.get(), nullptr, TileRequest{0, 9, 0, 1, 0, 1}, dummy.get()),
                    Catch::Contains("head 9"));
}

TEST_CASE("gpu attention rejects shapes it cannot run before launching", "[gpu][attention]") {
  AttnDims d;
  d.Dh = 256;
  DeviceBuffer<float> dummy(1);
  CHECK_THROWS_WITH(flash_attention_forward(d, dummy.get(), dummy.get(), dummy.get(), dummy.get(), dummy.get()),
                    Catch::Contains("head dim 256"));
}
