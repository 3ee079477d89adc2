// Cached decoding (core/model/kv_cache.h) against the recompute-everything generate() it
// replaced (issue 16: >= 20x for 256 tokens after a 2048-token prompt). Both run through
// generate(): attaching an observer makes it take the old path, a full forward per new token.
// Usage: bench_decode [prompt=2048] [new=256] [pairs=5] [layers=2] [d_model=128] [heads=4]
#include <cstdio>
#include <cstdlib>

#include "bench/bench_pairs.h"
#include "core/model/transformer.h"
#include "core/tensor/rng.h"

using namespace attnlab;

namespace {
struct NoOp : ForwardObserver {};  // its presence alone selects the recompute path
}  // namespace

int main(int argc, char** argv) {
  auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
  const int prompt_len = arg(1, 2048), n_new = arg(2, 256), pairs = arg(3, 5);
  ModelConfig c;
  c.family = "llama";
  c.vocab_size = 256;
  c.n_layers = arg(4, 2);
  c.d_model = arg(5, 128);
  c.n_heads = arg(6, 4);
  c.n_kv_heads = c.n_heads;
  c.d_ff = 4 * c.d_model;
  c.context = prompt_len + n_new;
  Transformer model(c);
  model.init_weights(0);
  Rng rng(1);
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
  for (int32_t& t : prompt) t = int32_t(rng.below(c.vocab_size));
  SampleOptions so;
  so.max_new = n_new;
  std::printf("decode %d tokens after a %d-token prompt; %d layers, d_model %d, %d heads\n", n_new,
              prompt_len, c.n_layers, c.d_model, c.n_heads);
  std::vector<int32_t> cached_out, old_out;
  NoOp noop;
  bench::interleave(
      "generate", pairs, [&] { cached_out = generate(model, prompt, so); },
      [&] {
        model.add_observer(&noop);
        old_out = generate(model, prompt, so);
        model.remove_observer(&noop);
      },
      "cached", "recompute");
  std::printf("same tokens: %s\n", cached_out == old_out ? "yes" : "no");
  return 0;
}
