// Every registered variant (each of its test specs) against an independent PyTorch autograd
// reference (tests/oracle/attention_ref.py): forward output and the gradients of q, k, v, x and
// the variant's own parameters, within 1e-4 relative. The script also runs
// torch.autograd.gradcheck in float64 on each reference, and fails for a variant it lacks.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "core/io/safetensors.h"
#include "tests/core/attention_harness.h"

using namespace attnlab;

namespace {

Tensor as_tensor(const std::vector<float>& v, std::vector<int64_t> shape) {
  Tensor t(shape);
  REQUIRE(t.data.size() == v.size());
  t.data = v;
  return t;
}

// Runs `spec` forward and backward on a random case and writes inputs, outputs and gradients for
// attention_ref.py as case<n>.safetensors.
void write_case(const std::filesystem::path& dir, int n, const std::string& spec, int B, int H,
                int T, int Dh, int D) {
  test::AttnCase c = test::make_attn_case(B, H, T, Dh, D, 100 + n);
  auto a = test::build_variant(spec, c);
  test::AttnRun r = test::run_forward_backward(*a, c);
  std::vector<int64_t> hs = {B, H, T, Dh}, xs = {B, T, D};
  std::map<std::string, Tensor> ts = {
      {"q", as_tensor(c.q, hs)},   {"k", as_tensor(c.k, hs)},       {"v", as_tensor(c.v, hs)},
      {"x", as_tensor(c.x, xs)},   {"dout", as_tensor(c.dout, hs)}, {"out", as_tensor(r.out, hs)},
      {"dq", as_tensor(r.dq, hs)}, {"dk", as_tensor(r.dk, hs)},     {"dv", as_tensor(r.dv, hs)},
      {"dx", as_tensor(r.dx, xs)}};
  for (Param& p : a->params()) {
    ts["param." + p.name] = *p.value;
    ts["grad." + p.name] = as_tensor(r.param_grads[p.name], p.value->shape);
  }
  std::string name = spec.substr(0, spec.find_first_of("(+"));
  write_safetensors((dir / ("case" + std::to_string(n) + ".safetensors")).string(), ts,
                    {{"spec", a->spec()},
                     {"variant", name},
                     {"layer", std::to_string(c.ctx.layer)},
                     {"n_layers", std::to_string(c.ctx.n_layers)}});
}

}  // namespace

TEST_CASE("every attention variant matches its PyTorch autograd reference", "[attention][oracle]") {
  namespace fs = std::filesystem;
  fs::path dir = test::temp_dir("attn_oracle");
  int n = 0;
  for (const std::string& spec : test::all_test_specs()) write_case(dir, n++, spec, 2, 2, 6, 4, 6);
  std::string variants;
  for (const VariantInfo& v : attention_variants())
    variants += (variants.empty() ? "" : ",") + v.name;
  test::run_oracle("attention_ref.py", "--dir " + dir.string() + " --variants " + variants);
  if (!std::getenv("ATTNLAB_KEEP_ORACLE_FILES")) fs::remove_all(dir);
}

TEST_CASE("score attention over several row tiles matches the PyTorch reference",
          "[attention][oracle][tiles]") {
  // 150 positions: three tiles of 64 query rows, whose key sets (with masks: sinks plus a band,
  // blocks, strides) differ per tile; forward and every gradient against float64 autograd.
  namespace fs = std::filesystem;
  fs::path dir = test::temp_dir("attn_oracle_tiles");
  const std::vector<std::string> specs = {"softmax",
                                          "window(size=40,sinks=3)",
                                          "softmax+block(size=50)",
                                          "softmax+dilated(size=30,rate=3,sinks=2)",
                                          "fox+window(size=70,sinks=1)",
                                          "kv_bias",
                                          "topk(k=5)+window(size=20)",
                                          "alibi",
                                          "relu+window(size=10)",
                                          "softpick"};
  int n = 0;
  for (const std::string& spec : specs) write_case(dir, n++, spec, 1, 2, 150, 4, 6);
  test::run_oracle("attention_ref.py", "--no-gradcheck --dir " + dir.string());
  if (!std::getenv("ATTNLAB_KEEP_ORACLE_FILES")) fs::remove_all(dir);
}
