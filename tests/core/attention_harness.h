#pragma once
// Shared by the attention tests: a random case (q, k, v, x, dout) for a variant and one
// forward + backward run that collects every gradient, parameters' included.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/attention/attention.h"
#include "core/tensor/rng.h"
#include "tests/test_support.h"

namespace attnlab::test {

struct AttnCase {
  AttnBuildContext ctx;
  AttnShape shape;
  std::vector<float> q, k, v, x, dout;
  AttnInputs inputs() const { return {shape, q.data(), k.data(), v.data(), x.data()}; }
};

inline AttnCase make_attn_case(int B, int H, int T, int Dh, int D, uint64_t seed) {
  AttnCase c;
  c.ctx.n_heads = H;
  c.ctx.head_dim = Dh;
  c.ctx.d_model = D;
  c.ctx.layer = 1;
  c.ctx.n_layers = 2;
  c.ctx.context = 64;
  c.shape = {B, H, T, Dh};
  size_t n = size_t(B) * H * T * Dh;
  c.q = random_normal(n, seed + 1);
  c.k = random_normal(n, seed + 2);
  c.v = random_normal(n, seed + 3);
  c.x = random_normal(size_t(B) * T * D, seed + 4);
  c.dout = random_normal(n, seed + 5);
  return c;
}

struct AttnRun {
  std::vector<float> out, dq, dk, dv, dx;
  std::map<std::string, std::vector<float>> param_grads;
};

// Builds and initialises the variant, then moves its parameters off their initial values
// (+ N(0, 0.3^2)) so that gates and slots matter: at init they are often ~0, which would make
// dx and parameter gradients too small to test.
inline std::unique_ptr<Attention> build_variant(const std::string& spec, const AttnCase& c,
                                                uint64_t seed = 7) {
  auto a = make_attention(spec, c.ctx);
  Rng rng(seed);
  a->init_params(rng);
  for (Param& p : a->params())
    for (float& x : p.value->data) x += float(rng.normal() * 0.3);
  return a;
}

inline std::vector<float> run_forward(Attention& a, const AttnCase& c) {
  std::vector<float> out(c.q.size());
  a.forward(c.inputs(), out.data());
  return out;
}

inline AttnRun run_forward_backward(Attention& a, const AttnCase& c) {
  AttnRun r;
  r.out = run_forward(a, c);
  r.dq.assign(c.q.size(), 0.0f);
  r.dk.assign(c.q.size(), 0.0f);
  r.dv.assign(c.q.size(), 0.0f);
  r.dx.assign(c.x.size(), 0.0f);
  for (Param& p : a.params()) p.grad->zero();
  a.backward(c.inputs(), c.dout.data(), {r.dq.data(), r.dk.data(), r.dv.data(), r.dx.data()});
  for (Param& p : a.params()) r.param_grads[p.name] = p.grad->data;
  return r;
}

// Every (variant, test spec) pair of the registry.
inline std::vector<std::string> all_test_specs() {
  std::vector<std::string> specs;
  for (const VariantInfo& v : attention_variants())
    for (const std::string& s : v.test_specs) specs.push_back(s);
  return specs;
}

}  // namespace attnlab::test
