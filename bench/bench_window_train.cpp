// Training cost of window attention against full causal attention as T grows (issue 17: the
// tiled score engine skips what the mask hides, so window(size=w) costs O(T w); target at
// T = 8192: window(size=256) < 1/8 of full causal). One training step (forward_loss + backward)
// of a small model whose cost is dominated by attention at these lengths; each T interleaves
// causal and window steps over `pairs` pairs. Full causal stops at max_full (its weights are
// T^2/2 floats per head).
// Usage: bench_window_train [pairs=5] [window=256] [max_T=16384] [max_full=8192]
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "bench/bench_pairs.h"
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

}  // namespace

int main(int argc, char** argv) {
  auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
  const int pairs = arg(1, 5), w = arg(2, 256), max_T = arg(3, 16384), max_full = arg(4, 8192);
  const std::string win = "window(size=" + std::to_string(w) + ")";
  std::printf("one training step, 1 layer, d_model 128, 2 heads; softmax vs %s\n", win.c_str());
  for (int T = 1024; T <= max_T; T *= 2) {
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
  return 0;
}
