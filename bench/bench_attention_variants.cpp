// Forward + backward time per attention variant at growing T (CPU), to show linear variants
// scaling linearly and score-based ones quadratically. Not run by the tests.
//   bench_attention_variants [T,T,...] ["spec;spec;..."]
// defaults: T = 256,1024,4096; every registered variant (default spec); B = 1, H = 4, Dh = 32.
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "core/attention/attention.h"
#include "core/tensor/rng.h"

using namespace attnlab;

static std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, sep);) out.push_back(x);
  return out;
}

int main(int argc, char** argv) {
  std::vector<int> Ts = {256, 1024, 4096};
  if (argc > 1) {
    Ts.clear();
    for (const std::string& t : split(argv[1], ',')) Ts.push_back(std::stoi(t));
  }
  std::vector<std::string> specs;
  if (argc > 2) specs = split(argv[2], ';');
  else
    for (const VariantInfo& v : attention_variants())
      specs.push_back(v.name == "window" ? "window(size=256,sinks=4)" : v.name == "topk" ? "topk(k=32)" : v.name);
  const int B = 1, H = 4, Dh = 32, D = 128;
  std::printf("%-26s", "variant \\ T (ms fwd+bwd)");
  for (int T : Ts) std::printf(" %10d", T);
  std::printf("   growth per 4x T\n");
  for (const std::string& spec : specs) {
    std::printf("%-26s", spec.c_str());
    std::vector<double> ms;
    for (int T : Ts) {
      AttnBuildContext ctx{H, Dh, D, 0, 1, T};
      auto a = make_attention(spec, ctx);
      Rng rng(1);
      a->init_params(rng);
      const size_t n = size_t(B) * H * T * Dh;
      std::vector<float> q(n), k(n), v(n), o(n), dq(n), dk(n), dv(n), x(size_t(B) * T * D), dx(x.size());
      for (auto* t : {&q, &k, &v, &x})
        for (float& f : *t) f = float(rng.normal() * 0.5);
      AttnInputs in{{B, H, T, Dh}, q.data(), k.data(), v.data(), x.data()};
      auto t0 = std::chrono::steady_clock::now();
      a->forward(in, o.data());
      a->backward(in, o.data(), {dq.data(), dk.data(), dv.data(), dx.data()});
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      std::printf(" %10.1f", ms.back());
      std::fflush(stdout);
    }
    std::printf("   ");
    for (size_t i = 1; i < ms.size(); ++i) std::printf("x%.1f ", ms[i] / ms[i - 1]);
    std::printf("\n");
  }
}
