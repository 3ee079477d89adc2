// Every layer of core/layers/ against PyTorch autograd (tests/oracle/layers_ref.py), which in
// turn checks its own reference against central finite differences in float64.
#include <catch2/catch.hpp>
#include <map>

#include "core/io/safetensors.h"
#include "core/layers/activation.h"
#include "core/layers/cross_entropy.h"
#include "core/layers/linear.h"
#include "core/layers/norm.h"
#include "core/layers/rope.h"
#include "tests/test_support.h"

using namespace attnlab;
using attnlab::test::max_rel_error;
using attnlab::test::random_normal;

namespace {

Tensor make(std::vector<int64_t> shape, uint64_t seed, float std = 1.0f) {
  Tensor t(shape);
  t.data = random_normal(size_t(t.numel()), seed, std);
  return t;
}

// Writes inputs, runs the oracle, returns its outputs.
std::map<std::string, Tensor> oracle(const std::string& layer, std::map<std::string, Tensor> in,
                                     std::map<std::string, std::string> meta = {}) {
  auto dir = test::temp_dir("layer_" + layer);
  meta["layer"] = layer;
  write_safetensors((dir / "in.safetensors").string(), in, meta);
  test::run_oracle("layers_ref.py",
                   (dir / "in.safetensors").string() + " " + (dir / "out.safetensors").string());
  return read_safetensors((dir / "out.safetensors").string()).tensors;
}

void check(const std::string& what, const std::vector<float>& got, const Tensor& want) {
  INFO(what);
  CHECK(max_rel_error(got, want.data) < 1e-4);
}

}  // namespace

TEST_CASE("linear forward/backward match PyTorch", "[layers][oracle]") {
  const int N = 7, in = 5, out = 6;
  Tensor x = make({N, in}, 1), W = make({out, in}, 2), b = make({out}, 3), dy = make({N, out}, 4);
  auto ref = oracle("linear", {{"x", x}, {"W", W}, {"b", b}, {"dy", dy}});
  std::vector<float> y(N * out), dx(N * in), dW(out * in, 0.0f), db(out, 0.0f);
  linear_forward(y.data(), x.ptr(), W.ptr(), b.ptr(), N, in, out);
  linear_backward(dx.data(), dW.data(), db.data(), dy.ptr(), x.ptr(), W.ptr(), N, in, out);
  check("y", y, ref["y"]);
  check("dx", dx, ref["dx"]);
  check("dW", dW, ref["dW"]);
  check("db", db, ref["db"]);
}

TEST_CASE("layernorm and rmsnorm match PyTorch", "[layers][oracle]") {
  const int N = 6, C = 16;
  const float eps = 1e-5f;
  Tensor x = make({N, C}, 5, 2.0f), w = make({C}, 6), b = make({C}, 7), dy = make({N, C}, 8);
  SECTION("layernorm") {
    auto ref = oracle("layernorm", {{"x", x}, {"w", w}, {"b", b}, {"dy", dy}}, {{"eps", "1e-5"}});
    std::vector<float> y(N * C), mean(N), rstd(N), dx(N * C), dw(C, 0.f), db(C, 0.f);
    layernorm_forward(y.data(), mean.data(), rstd.data(), x.ptr(), w.ptr(), b.ptr(), N, C, eps);
    layernorm_backward(dx.data(), dw.data(), db.data(), dy.ptr(), x.ptr(), w.ptr(), mean.data(),
                       rstd.data(), N, C);
    check("y", y, ref["y"]);
    check("dx", dx, ref["dx"]);
    check("dw", dw, ref["dw"]);
    check("db", db, ref["db"]);
  }
  SECTION("rmsnorm") {
    auto ref = oracle("rmsnorm", {{"x", x}, {"w", w}, {"dy", dy}}, {{"eps", "1e-5"}});
    std::vector<float> y(N * C), rstd(N), dx(N * C), dw(C, 0.f);
    rmsnorm_forward(y.data(), rstd.data(), x.ptr(), w.ptr(), N, C, eps);
    rmsnorm_backward(dx.data(), dw.data(), dy.ptr(), x.ptr(), w.ptr(), rstd.data(), N, C);
    check("y", y, ref["y"]);
    check("dx", dx, ref["dx"]);
    check("dw", dw, ref["dw"]);
  }
}

TEST_CASE("GELU (exact and tanh) and SwiGLU match PyTorch", "[layers][oracle]") {
  const int n = 64;
  Tensor x = make({n}, 9, 2.0f), dy = make({n}, 10);
  for (bool tanh_approx : {false, true}) {
    auto ref = oracle("gelu", {{"x", x}, {"dy", dy}}, {{"tanh", tanh_approx ? "1" : "0"}});
    std::vector<float> y(n), dx(n);
    gelu_forward(y.data(), x.ptr(), n, tanh_approx);
    gelu_backward(dx.data(), dy.ptr(), x.ptr(), n, tanh_approx);
    check(tanh_approx ? "gelu_tanh y" : "gelu y", y, ref["y"]);
    check("gelu dx", dx, ref["dx"]);
  }
  Tensor gate = make({n}, 11, 2.0f), up = make({n}, 12);
  auto ref = oracle("swiglu", {{"gate", gate}, {"up", up}, {"dy", dy}});
  std::vector<float> y(n), dg(n), du(n);
  swiglu_forward(y.data(), gate.ptr(), up.ptr(), n);
  swiglu_backward(dg.data(), du.data(), dy.ptr(), gate.ptr(), up.ptr(), n);
  check("swiglu y", y, ref["y"]);
  check("swiglu dgate", dg, ref["dgate"]);
  check("swiglu dup", du, ref["dup"]);
}

TEST_CASE("RoPE (interleaved, half, partial) matches PyTorch", "[layers][oracle]") {
  const int B = 2, H = 2, T = 9, Dh = 8;
  Tensor x = make({B, H, T, Dh}, 13), dy = make({B, H, T, Dh}, 14);
  for (RopeStyle style : {RopeStyle::interleaved, RopeStyle::half}) {
    for (int rot : {8, 4}) {
      auto ref = oracle("rope", {{"x", x}, {"dy", dy}},
                        {{"rot", std::to_string(rot)}, {"theta", "10000"},
                         {"style", to_string(style)}});
      std::vector<float> y = x.data, dx = dy.data;
      rope_apply(y.data(), B, H, T, Dh, rot, 10000.0f, style, false);
      rope_apply(dx.data(), B, H, T, Dh, rot, 10000.0f, style, true);  // backward = inverse
      check("rope y " + to_string(style) + " rot " + std::to_string(rot), y, ref["y"]);
      check("rope dx", dx, ref["dx"]);
    }
  }
}

TEST_CASE("masked cross-entropy matches PyTorch", "[layers][oracle]") {
  const int N = 10, V = 13;
  Tensor logits = make({N, V}, 15, 3.0f), targets({N}), mask({N}), dy({1}, 1.0f);
  for (int n = 0; n < N; ++n) {
    targets.data[size_t(n)] = float((n * 7) % V);
    mask.data[size_t(n)] = n % 3 == 0 ? 0.0f : 1.0f;
  }
  auto ref = oracle("cross_entropy", {{"logits", logits}, {"targets", targets}, {"mask", mask}, {"dy", dy}});
  std::vector<int32_t> tg(N);
  for (int n = 0; n < N; ++n) tg[size_t(n)] = int32_t(targets.data[size_t(n)]);
  std::vector<float> losses(N), dlogits(N * V);
  float loss = cross_entropy_forward(losses.data(), logits.ptr(), tg.data(), mask.ptr(), N, V);
  cross_entropy_backward(dlogits.data(), logits.ptr(), tg.data(), mask.ptr(), N, V);
  check("loss", {loss}, ref["y"]);
  check("dlogits", dlogits, ref["dlogits"]);
}

TEST_CASE("cross-entropy rejects bad targets and empty masks", "[layers][errors]") {
  std::vector<float> logits(6, 0.0f), losses(2), mask{1, 1}, zero_mask{0, 0};
  std::vector<int32_t> bad{0, 3};
  CHECK_THROWS_WITH(cross_entropy_forward(losses.data(), logits.data(), bad.data(), mask.data(), 2, 3),
                    Catch::Contains("outside the vocabulary"));
  std::vector<int32_t> ok{0, 1};
  CHECK_THROWS_WITH(cross_entropy_forward(losses.data(), logits.data(), ok.data(), zero_mask.data(), 2, 3),
                    Catch::Contains("selects no position"));
}
