// Peak memory of the inference forward (keep_activations = false, what analysis runs) of a
// GPT-2-shape model at sequence length T; run under /usr/bin/time -v and read "Maximum resident
// set size" against the printed weight bytes (issue 17: <= weights + 500 MB at T = 4096).
// Usage: bench_infer_memory T [layers=12] [d_model=768] [heads=12] [vocab=256]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/model/transformer.h"
#include "core/tensor/rng.h"

using namespace attnlab;

int main(int argc, char** argv) {
  auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
  const int T = arg(1, 1024);
  ModelConfig c;
  c.family = "gpt2";
  c.n_layers = arg(2, 12);
  c.d_model = arg(3, 768);
  c.n_heads = arg(4, 12);
  c.n_kv_heads = c.n_heads;
  c.vocab_size = arg(5, 256);
  c.d_ff = 4 * c.d_model;
  c.context = T;
  c.pos = PosEncoding::learned;
  c.norm = NormKind::layernorm;
  c.mlp = MlpKind::gelu_tanh;
  c.bias = true;
  Transformer model(c);
  model.init_weights(0);
  Rng rng(1);
  std::vector<int32_t> tokens(static_cast<size_t>(T));
  for (int32_t& t : tokens) t = int32_t(rng.below(c.vocab_size));
  auto t0 = std::chrono::steady_clock::now();
  const Tensor& logits = model.forward(tokens.data(), 1, T, false);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("T=%d layers=%d d_model=%d: weights %.1f MB, forward %.2f s (logit[0] %.4f)\n", T,
              c.n_layers, c.d_model, model.num_params() * 4.0 / 1e6, s, logits.data[0]);
  return 0;
}
