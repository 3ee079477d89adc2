// Training cost of window attention against full causal attention as T grows (issue 17: the
// tiled score engine skips what the mask hides, so window(size=w) costs O(T w); target at
// T = 8192: window(size=256) < 1/8 of full causal). One training step (forward_loss + backward)
// of a small model whose cost is dominated by attention at these lengths; each T interleaves
// causal and window steps over `pairs` pairs. Full causal stops at max_full (its weights are
// T^2/2 floats per head).
// Then the same for the attention kernel alone (2 heads of 64, forward + backward), and the
// linear family's model step against T (issue 17: chunked parallel forms, cost linear in T),
// each T's median beside the growth from the T before (2.0x per doubling is linear).
// Usage: bench_window_train [pairs=5] [window=256] [max_T=16384] [max_full=8192] [part=0|1|2|3]
//   (part 0: all, 1: model, 2: kernel, 3: linear family)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "bench/bench_pairs.h"
#include "core/attention/attention.h"
#include "core/model/transformer.h"
#include "core/tensor/rng.h"

using namespace attnlab;

namespace {

std::unique_ptr<Transformer> make_model(const std::string& attention, int T) {
  ModelConfig c;
  c.vocab_size = 256;
  c.n_layers = 1;
  c.d_model = 128;
  c.n_heads = 2;  // Dh = 64, as GPT-2
  c.n_kv_heads = 2;
  c.d_ff = 256;
  c.context = T;
  c.attention = {attention};
  auto m = std::make_unique<Transformer>(c);
  m->init_weights(0);
  return m;
}

Batch random_batch(int T) {
  Batch b;
  b.resize(1, T);
  Rng rng(2);
  for (size_t i = 0; i < b.tokens.size(); ++i) {
    b.tokens[i] = int32_t(rng.below(256));
    b.targets[i] = int32_t(rng.below(256));
  }
  return b;
}

void step(Transformer& m, const Batch& b) {
  m.zero_grad();
  m.forward_loss(b);
  m.backward();
}

// The attention kernel alone: forward (keeping what backward needs) and backward of one layer's
// heads [1, H, T, Dh], without the model's projections and MLP around it.
struct KernelCase {
  AttnShape shape;
  std::vector<float> q, k, v, dout, out, dq, dk, dv;
  std::unique_ptr<Attention> attn;
  KernelCase(const std::string& spec, int H, int T, int Dh) : shape{1, H, T, Dh} {
    AttnBuildContext ctx;
    ctx.n_heads = H;
    ctx.head_dim = Dh;
    ctx.d_model = H * Dh;
    ctx.context = T;
    attn = make_attention(spec, ctx);
    Rng rng(3);
    for (auto* x : {&q, &k, &v, &dout}) {
      x->resize(size_t(shape.numel()));
      for (float& e : *x) e = float(rng.normal());
    }
    for (auto* x : {&out, &dq, &dk, &dv}) x->resize(size_t(shape.numel()));
  }
  void run() {
    AttnInputs in{shape, q.data(), k.data(), v.data(), nullptr, true};
    attn->forward(in, out.data());
    attn->backward(in, dout.data(), {dq.data(), dk.data(), dv.data(), nullptr});
  }
};

}  // namespace

int main(int argc, char** argv) {
  auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
  const int pairs = arg(1, 5), w = arg(2, 256), max_T = arg(3, 16384), max_full = arg(4, 8192);
  const int part = arg(5, 0);  // 0: all, 1: the model only, 2: the kernel only, 3: linear family
  const std::string win = "window(size=" + std::to_string(w) + ")";
  if (part == 0 || part == 1)
    std::printf("one training step, 1 layer, d_model 128, 2 heads; softmax vs %s\n", win.c_str());
  for (int T = 1024; (part == 0 || part == 1) && T <= max_T; T *= 2) {
    Batch b = random_batch(T);
    auto wm = make_model(win, T);
    step(*wm, b);  // warm-up: first-touch of the buffers
    const std::string label = "T=" + std::to_string(T);
    if (T <= max_full) {
      auto fm = make_model("softmax", T);
      step(*fm, b);
      bench::interleave(
          label.c_str(), pairs, [&] { step(*fm, b); }, [&] { step(*wm, b); }, "causal", "window");
    } else {
      std::vector<double> s;
      for (int p = 0; p < pairs; ++p) s.push_back(bench::seconds([&] { step(*wm, b); }));
      std::printf("%s: window median %.3f s (full causal not run above T=%d)\n", label.c_str(),
                  bench::median(s), max_full);
    }
  }
  if (part == 0 || part == 2) std::printf("attention kernel alone (forward + backward), 2 heads of 64\n");
  for (int T = 1024; (part == 0 || part == 2) && T <= max_T; T *= 2) {
    KernelCase wk(win, 2, T, 64);
    wk.run();
    const std::string label = "kernel T=" + std::to_string(T);
    if (T <= max_full) {
      KernelCase fk("softmax", 2, T, 64);
      fk.run();
      bench::interleave(
          label.c_str(), pairs, [&] { fk.run(); }, [&] { wk.run(); }, "causal", "window");
    } else {
      std::vector<double> s;
      for (int p = 0; p < pairs; ++p) s.push_back(bench::seconds([&] { wk.run(); }));
      std::printf("%s: window median %.3f s\n", label.c_str(), bench::median(s));
    }
  }
  if (part == 0 || part == 3)
    std::printf("linear family, one training step of the same model (median of %d), growth per doubling of T\n", pairs);
  for (const char* spec : {"linear", "retnet", "gla", "deltanet"}) {
    if (part != 0 && part != 3) break;
    double prev = 0;
    for (int T = 1024; T <= max_T; T *= 2) {
      Batch b = random_batch(T);
      auto m = make_model(spec, T);
      step(*m, b);
      std::vector<double> s;
      for (int p = 0; p < pairs; ++p) s.push_back(bench::seconds([&] { step(*m, b); }));
      const double med = bench::median(s);
      std::printf("%-9s T=%-5d median %.3f s (range %.3f-%.3f)", spec, T, med, *std::min_element(s.begin(), s.end()),
                  *std::max_element(s.begin(), s.end()));
      if (prev > 0) std::printf("  x%.2f", med / prev);
      std::printf("\n");
      prev = med;
    }
  }
  return 0;
}
