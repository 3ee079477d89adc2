// Training and forward-only throughput (tokens/s) of a GPT-2-style model on the CPU.
// Usage: bench_train [steps] [batch] [seq]. bench/bench_train.sh runs it next to PyTorch.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/layers/gemm.h"
#include "core/model/transformer.h"
#include "core/tensor/rng.h"
#include "core/train/adamw.h"

using namespace attnlab;

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 5;
  int B = argc > 2 ? std::atoi(argv[2]) : 16;
  int T = argc > 3 ? std::atoi(argv[3]) : 256;
  ModelConfig cfg = preset_config("gpt2-bench");
  Transformer model(cfg);
  model.init_weights(0);
  AdamW opt(model.params(), {});
  Batch batch;
  batch.resize(B, T);
  Rng rng(1);
  for (size_t i = 0; i < batch.tokens.size(); ++i) {
    batch.tokens[i] = int32_t(rng.below(cfg.vocab_size));
    batch.targets[i] = int32_t(rng.below(cfg.vocab_size));
  }
  auto time_it = [&](auto&& fn) {
    fn();  // warm-up
    auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
  };
  double train_s = time_it([&] {
    model.zero_grad();
    model.forward_loss(batch);
    model.backward();
    opt.clip_grad_norm(1.0f);
    opt.step(1e-4f);
  });
  double fwd_s = time_it([&] { model.forward(batch.tokens.data(), B, T); });
  std::printf("attnlab gemm %s\n", gemm_backend_name().c_str());
  std::printf("attnlab train_tokens_per_s %.1f\n", B * T / train_s);
  std::printf("attnlab forward_tokens_per_s %.1f\n", B * T / fwd_s);
  return 0;
}
