// GPU benchmark of the CUDA backend on a GPT-2-small-shaped model (llm.c layout: learned
// positions, LayerNorm, GELU-tanh, biases, tied embeddings), built directly on the kernels.
//
//   bench_gpu_gpt2 train [--batch 8] [--seq 1024] [--steps 20] [--tf32 1]
//       full training steps (forward, backward, AdamW) on one fixed random batch; prints
//       tokens/s and the loss, which must fall (a check that the gradients are right).
//   bench_gpu_gpt2 model [--batch 8] [--seq 1024] [--steps 20]
//       the same training steps through DeviceTransformer (the backend `--device cuda` uses:
//       separate q/k/v projections, gradient clipping, AdamW per parameter), TF32 GEMMs.
//   bench_gpu_gpt2 stats [--seq 16384]
//       forward of all 12 layers at B=1 with the fused statistics pass on every head (no T x T
//       memory); prints time, peak device memory and a few per-head numbers.
// Output ends with one JSON line for bench/gpu/run_gpu_bench.sh to compare with PyTorch.
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/cuda/attention.h"
#include "core/cuda/device_model.h"
#include "core/model/transformer.h"
#include "core/cuda/device_buffer.h"
#include "core/cuda/gemm.h"
#include "core/cuda/ops.h"
#include "core/cuda/runtime.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

using namespace attnlab;
using namespace attnlab::cuda;

namespace {

struct Cfg {
  int V = 50257, C = 768, L = 12, H = 12, maxT = 1024;
  int Dh() const { return C / H; }
};

// Parameters in one allocation so AdamW is one launch.
struct Params {
  enum { wte, wpe, n_global };
  enum { ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, n_layer };
  std::vector<int64_t> off, size;
  std::vector<bool> decay;
  int64_t total = 0;
  int64_t lnf_w = 0, lnf_b = 0;
  void add(int64_t n, bool d) {
    off.push_back(total);
    size.push_back(n);
    decay.push_back(d);
    total += n;
  }
  explicit Params(const Cfg& c) {
    const int64_t C = c.C;
    add(int64_t(c.V) * C, true);
    add(int64_t(c.maxT) * C, true);
    for (int l = 0; l < c.L; ++l) {
      add(C, false), add(C, false), add(3 * C * C, true), add(3 * C, false), add(C * C, true), add(C, false);
      add(C, false), add(C, false), add(4 * C * C, true), add(4 * C, false), add(4 * C * C, true), add(C, false);
    }
    lnf_w = total, add(C, false);
    lnf_b = total, add(C, false);
  }
  int64_t layer(int l, int which) const { return off[n_global + l * n_layer + which]; }
};

struct Model {
  Cfg cfg;
  int B, T;
  bool train;
  Params P;
  DeviceBuffer<float> w, g, m, v;
  // Activations; in analysis mode every layer shares slot 0 (nothing is kept for backward).
  DeviceBuffer<float> res, ln1, ln1m, ln1r, q, k, vv, att, lse, atty, res2, ln2, ln2m, ln2r, fch, fchg;
  DeviceBuffer<float> lnf, lnfm, lnfr, logits, losses, scratch_qkv, scratch_c;
  // Backward scratch.
  DeviceBuffer<float> dres, dtmp, d4c, dln, datt, dq, dk, dv, dqkv, delta;
  DeviceBuffer<int> tokens, targets;
  std::unique_ptr<Blas> blas;

  Model(Cfg c, int B_, int T_, bool train_, bool tf32)
      : cfg(c), B(B_), T(T_), train(train_), P(c) {
    const int64_t BT = int64_t(B) * T, C = c.C, slots = train ? c.L : 1, rslots = train ? c.L + 1 : 2;
    w = DeviceBuffer<float>(P.total);
    init_weights();
    res = DeviceBuffer<float>(rslots * BT * C);
    for (auto* b : {&ln1, &q, &k, &vv, &att, &atty, &res2, &ln2}) *b = DeviceBuffer<float>(slots * BT * C);
    for (auto* b : {&ln1m, &ln1r, &ln2m, &ln2r}) *b = DeviceBuffer<float>(slots * BT);
    lse = DeviceBuffer<float>(slots * BT * c.H);
    fch = DeviceBuffer<float>(slots * BT * 4 * C);
    fchg = DeviceBuffer<float>(slots * BT * 4 * C);
    scratch_qkv = DeviceBuffer<float>(BT * 3 * C);
    scratch_c = DeviceBuffer<float>(BT * C);
    blas = std::make_unique<Blas>(cudaStream_t(0), tf32 ? Precision::tf32 : Precision::fp32);
    if (train) {
      g = DeviceBuffer<float>(P.total), m = DeviceBuffer<float>(P.total), v = DeviceBuffer<float>(P.total);
      m.zero(), v.zero();
      lnf = DeviceBuffer<float>(BT * C), lnfm = DeviceBuffer<float>(BT), lnfr = DeviceBuffer<float>(BT);
      logits = DeviceBuffer<float>(BT * c.V), losses = DeviceBuffer<float>(BT);
      for (auto* b : {&dres, &dtmp, &dln, &datt, &dq, &dk, &dv}) *b = DeviceBuffer<float>(BT * C);
      d4c = DeviceBuffer<float>(BT * 4 * C);
      dqkv = DeviceBuffer<float>(BT * 3 * C);
      delta = DeviceBuffer<float>(BT * c.H);
    }
    tokens = DeviceBuffer<int>(BT);
    targets = DeviceBuffer<int>(BT);
  }

  void init_weights() {
    // GPT-2 init: N(0, 0.02) matrices (residual projections scaled by 1/sqrt(2L)), LN gains 1.
    std::vector<float> h(static_cast<size_t>(P.total), 0.0f);
    Rng rng(1234);
    for (size_t i = 0; i < P.off.size(); ++i) {
      const bool is_gain = !P.decay[i] && P.size[i] == cfg.C && (i < 2 || ((i - 2) % Params::n_layer == 0 ||
                                                                           (i - 2) % Params::n_layer == 6));
      const int64_t lnf_index = int64_t(P.off.size()) - 2;
      for (int64_t j = 0; j < P.size[i]; ++j) {
        float val = 0.0f;
        if (P.decay[i]) {
          const int which = i >= 2 ? int((i - 2) % Params::n_layer) : -1;
          const double sd = (which == Params::projw || which == Params::fcprojw) ? 0.02 / std::sqrt(2.0 * cfg.L) : 0.02;
          val = float(rng.normal() * sd);
        } else if (is_gain || int64_t(i) == lnf_index) {
          val = 1.0f;
        }
        h[size_t(P.off[i] + j)] = val;
      }
    }
    w.upload(h);
  }

  float* W(int64_t off) { return w.get() + off; }
  float* G(int64_t off) { return g.get() + off; }

  // Forward through all blocks. With `stats`, runs the statistics pass for every layer's heads
  // and downloads the per-head sums into stats[l].
  void forward(std::vector<StreamStats>* stats, const int* tok_for_stats) {
    const int64_t BT = int64_t(B) * T, C = cfg.C;
    const int H = cfg.H, Dh = cfg.Dh();
    AttnDims d;
    d.B = B, d.Hq = H, d.Hkv = H, d.T = T, d.Dh = Dh;
    embedding_forward(tokens.get(), W(P.off[Params::wte]), W(P.off[Params::wpe]), B, T, cfg.C, res.get());
    const int64_t n_stats = int64_t(B) * H * T;
    DeviceBuffer<float> sb[8];
    if (stats) {
      for (auto& b : sb) b = DeviceBuffer<float>(n_stats);
      sb[6] = DeviceBuffer<float>(n_stats * kTopKBudgets);
    }
    for (int l = 0; l < cfg.L; ++l) {
      const int s = train ? l : 0;
      float* x = res.get() + (train ? l : l % 2) * BT * C;
      float* xn = res.get() + (train ? l + 1 : (l + 1) % 2) * BT * C;
      float *l1 = ln1.get() + s * BT * C, *qq = q.get() + s * BT * C, *kk = k.get() + s * BT * C,
            *v_ = vv.get() + s * BT * C, *a = att.get() + s * BT * C, *ay = atty.get() + s * BT * C,
            *r2 = res2.get() + s * BT * C, *l2 = ln2.get() + s * BT * C, *h1 = fch.get() + s * BT * 4 * C,
            *h2 = fchg.get() + s * BT * 4 * C, *ls = lse.get() + s * BT * H;
      layernorm_forward(x, W(P.layer(l, Params::ln1w)), W(P.layer(l, Params::ln1b)), BT, C, 1e-5f, l1,
                        ln1m.get() + s * BT, ln1r.get() + s * BT);
      linear_forward(*blas, l1, W(P.layer(l, Params::qkvw)), W(P.layer(l, Params::qkvb)), BT, C, 3 * C,
                     scratch_qkv.get());
      split_qkv(scratch_qkv.get(), B, T, H, H, Dh, qq, kk, v_);
      flash_attention_forward(d, qq, kk, v_, a, ls);
      if (stats) {
        attention_statistics(d, qq, kk, ls, tok_for_stats,
                             {sb[0].get(), sb[1].get(), sb[2].get(), sb[3].get(), sb[4].get(), sb[5].get(),
                              sb[6].get(), sb[7].get()});
        StreamStats& st = (*stats)[l];
        st.col_mass = sb[0].to_host(), st.entropy = sb[1].to_host(), st.prev_token = sb[2].to_host();
        st.induction = sb[3].to_host(), st.duplicate = sb[4].to_host(), st.row_max = sb[5].to_host();
        st.topk_mass = sb[6].to_host(), st.cover = sb[7].to_host();
      }
      merge_heads(a, B, H, T, Dh, ay);
      linear_forward(*blas, ay, W(P.layer(l, Params::projw)), W(P.layer(l, Params::projb)), BT, C, C,
                     scratch_c.get());
      add(x, scratch_c.get(), BT * C, r2);
      layernorm_forward(r2, W(P.layer(l, Params::ln2w)), W(P.layer(l, Params::ln2b)), BT, C, 1e-5f, l2,
                        ln2m.get() + s * BT, ln2r.get() + s * BT);
      linear_forward(*blas, l2, W(P.layer(l, Params::fcw)), W(P.layer(l, Params::fcb)), BT, C, 4 * C, h1);
      gelu_forward(h1, BT * 4 * C, true, h2);
      linear_forward(*blas, h2, W(P.layer(l, Params::fcprojw)), W(P.layer(l, Params::fcprojb)), BT, 4 * C, C,
                     scratch_c.get());
      add(r2, scratch_c.get(), BT * C, xn);
    }
  }

  // Loss head, backward and AdamW; returns the mean loss (one host sync per step).
  float train_step(float lr) {
    const int64_t BT = int64_t(B) * T, C = cfg.C;
    const int H = cfg.H, Dh = cfg.Dh();
    AttnDims d;
    d.B = B, d.Hq = H, d.Hkv = H, d.T = T, d.Dh = Dh;
    forward(nullptr, nullptr);
    float* xL = res.get() + int64_t(cfg.L) * BT * C;
    layernorm_forward(xL, W(P.lnf_w), W(P.lnf_b), BT, C, 1e-5f, lnf.get(), lnfm.get(), lnfr.get());
    gemm(*blas, false, true, int(BT), cfg.V, int(C), 1.0f, lnf.get(), W(P.off[Params::wte]), 0.0f, logits.get());
    softmax_cross_entropy(logits.get(), targets.get(), BT, cfg.V, 1.0f / float(BT), losses.get(), logits.get());
    g.zero();
    linear_backward(*blas, logits.get(), lnf.get(), W(P.off[Params::wte]), BT, int(C), cfg.V, dln.get(),
                    G(P.off[Params::wte]), nullptr);
    layernorm_backward(dln.get(), xL, W(P.lnf_w), lnfm.get(), lnfr.get(), BT, C, dres.get(), G(P.lnf_w), G(P.lnf_b));
    for (int l = cfg.L - 1; l >= 0; --l) {
      const int s = l;
      float* x = res.get() + l * BT * C;
      float *l1 = ln1.get() + s * BT * C, *qq = q.get() + s * BT * C, *kk = k.get() + s * BT * C,
            *v_ = vv.get() + s * BT * C, *a = att.get() + s * BT * C, *ay = atty.get() + s * BT * C,
            *r2 = res2.get() + s * BT * C, *l2 = ln2.get() + s * BT * C, *h1 = fch.get() + s * BT * 4 * C,
            *h2 = fchg.get() + s * BT * 4 * C, *ls = lse.get() + s * BT * H;
      // MLP branch: res3 = res2 + fcproj(gelu(fc(ln2(res2)))).
      linear_backward(*blas, dres.get(), h2, W(P.layer(l, Params::fcprojw)), BT, 4 * int(C), int(C), d4c.get(),
                      G(P.layer(l, Params::fcprojw)), G(P.layer(l, Params::fcprojb)));
      gelu_backward(d4c.get(), h1, BT * 4 * C, true, d4c.get());
      linear_backward(*blas, d4c.get(), l2, W(P.layer(l, Params::fcw)), BT, int(C), 4 * int(C), dln.get(),
                      G(P.layer(l, Params::fcw)), G(P.layer(l, Params::fcb)));
      layernorm_backward(dln.get(), r2, W(P.layer(l, Params::ln2w)), ln2m.get() + s * BT, ln2r.get() + s * BT, BT,
                         C, dtmp.get(), G(P.layer(l, Params::ln2w)), G(P.layer(l, Params::ln2b)));
      add_inplace(dres.get(), dtmp.get(), BT * C);
      // Attention branch: res2 = x + proj(attn(ln1(x))).
      linear_backward(*blas, dres.get(), ay, W(P.layer(l, Params::projw)), BT, int(C), int(C), dtmp.get(),
                      G(P.layer(l, Params::projw)), G(P.layer(l, Params::projb)));
      merge_heads_backward(dtmp.get(), B, H, T, Dh, datt.get());
      flash_attention_backward(d, qq, kk, v_, a, datt.get(), ls, delta.get(), dq.get(), dk.get(), dv.get());
      split_qkv_backward(dq.get(), dk.get(), dv.get(), B, T, H, H, Dh, dqkv.get());
      linear_backward(*blas, dqkv.get(), l1, W(P.layer(l, Params::qkvw)), BT, int(C), 3 * int(C), dln.get(),
                      G(P.layer(l, Params::qkvw)), G(P.layer(l, Params::qkvb)));
      layernorm_backward(dln.get(), x, W(P.layer(l, Params::ln1w)), ln1m.get() + s * BT, ln1r.get() + s * BT, BT, C,
                         dtmp.get(), G(P.layer(l, Params::ln1w)), G(P.layer(l, Params::ln1b)));
      add_inplace(dres.get(), dtmp.get(), BT * C);
    }
    embedding_backward(tokens.get(), dres.get(), B, T, cfg.C, G(P.off[Params::wte]), G(P.off[Params::wpe]));
    ++step;
    // One launch per parameter tensor: weight decay differs between them.
    for (size_t i = 0; i < P.off.size(); ++i)
      adamw_step(W(P.off[i]), G(P.off[i]), m.get() + P.off[i], v.get() + P.off[i], P.size[i], lr, 0.9f, 0.95f, 1e-8f,
                 P.decay[i] ? 0.1f : 0.0f, step);
    std::vector<float> l = losses.to_host();
    double sum = 0;
    for (float x : l) sum += x;
    return float(sum / double(l.size()));
  }
  int64_t step = 0;
};

int arg_int(int argc, char** argv, const char* name, int dflt) {
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return dflt;
}

double device_used_gib() {
  size_t free_b = 0, total_b = 0;
  ATTNLAB_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return double(total_b - free_b) / double(1 << 30);
}

int run_train(int argc, char** argv) {
  const int B = arg_int(argc, argv, "--batch", 8), T = arg_int(argc, argv, "--seq", 1024);
  const int steps = arg_int(argc, argv, "--steps", 20);
  const bool tf32 = arg_int(argc, argv, "--tf32", 1) != 0;
  Cfg cfg;
  cfg.maxT = T;
  const double base = device_used_gib();
  Model model(cfg, B, T, true, tf32);
  std::vector<int> tok(size_t(B) * T), tgt(tok.size());
  Rng rng(7);
  for (auto& t : tok) t = int(rng.below(cfg.V));
  for (size_t i = 0; i < tok.size(); ++i) tgt[i] = (i + 1) % T == 0 ? int(rng.below(cfg.V)) : tok[i + 1];
  model.tokens.upload(tok);
  model.targets.upload(tgt);
  std::printf("GPT-2 small (124M) training, B=%d T=%d, %s, %s\n", B, T, tf32 ? "TF32 GEMMs" : "fp32 GEMMs",
              device_description().c_str());
  float first = model.train_step(3e-4f), last = first;  // warm-up (cuBLAS heuristics, smem opt-in)
  last = model.train_step(3e-4f);
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) last = model.train_step(3e-4f);
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double tps = double(B) * T * steps / sec;
  const double mem = device_used_gib() - base;
  std::printf("step time %.1f ms, %.0f tokens/s, loss %.4f -> %.4f (must fall on the fixed batch), device memory %.2f GiB\n",
              1e3 * sec / steps, tps, first, last, mem);
  if (!(last < first)) std::printf("WARNING: loss did not fall: gradients are suspect\n");
  std::printf("{\"bench\":\"gpt2_train\",\"impl\":\"attnlab\",\"B\":%d,\"T\":%d,\"tokens_per_s\":%.1f,\"loss_first\":%.5f,"
              "\"loss_last\":%.5f,\"mem_gib\":%.3f}\n", B, T, tps, first, last, mem);
  return 0;
}

int run_model(int argc, char** argv) {
  const int B = arg_int(argc, argv, "--batch", 8), T = arg_int(argc, argv, "--seq", 1024);
  const int steps = arg_int(argc, argv, "--steps", 20);
  ModelConfig cfg;
  cfg.family = "gpt2", cfg.vocab_size = 50257, cfg.context = T, cfg.d_model = 768, cfg.n_layers = 12;
  cfg.n_heads = 12, cfg.n_kv_heads = 12, cfg.d_ff = 3072, cfg.pos = PosEncoding::learned;
  cfg.norm = NormKind::layernorm, cfg.mlp = MlpKind::gelu_tanh, cfg.bias = true, cfg.tied_embeddings = true;
  Transformer cpu(cfg);
  cpu.init_weights(1234);
  std::map<std::string, bool> decay;
  for (const Param& p : cpu.params()) decay[p.name] = p.decay;
  const double base = device_used_gib();
  DeviceTransformer gpu(cfg, cpu.weights(), Precision::tf32);
  Batch batch;
  batch.resize(B, T);
  Rng rng(7);
  for (auto& t : batch.tokens) t = int32_t(rng.below(cfg.vocab_size));
  for (size_t i = 0; i < batch.tokens.size(); ++i)
    batch.targets[i] = (i + 1) % T == 0 ? int32_t(rng.below(cfg.vocab_size)) : batch.tokens[i + 1];
  AdamWConfig ac;
  auto step = [&] {
    gpu.zero_grad();
    const float loss = gpu.forward_loss(batch);
    gpu.backward();
    gpu.clip_grad_norm(1.0f);
    gpu.adamw_step(3e-4f, ac, decay);
    return loss;
  };
  std::printf("GPT-2 small (124M) through DeviceTransformer, B=%d T=%d, TF32 GEMMs, %s\n", B, T,
              device_description().c_str());
  const float first = step();
  float last = step();
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) last = step();
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double tps = double(B) * T * steps / sec, mem = device_used_gib() - base;
  std::printf("step time %.1f ms, %.0f tokens/s, loss %.4f -> %.4f, device memory %.2f GiB\n", 1e3 * sec / steps,
              tps, first, last, mem);
  std::printf("{\"bench\":\"gpt2_train\",\"impl\":\"attnlab_model\",\"B\":%d,\"T\":%d,\"tokens_per_s\":%.1f,"
              "\"loss_first\":%.5f,\"loss_last\":%.5f,\"mem_gib\":%.3f}\n", B, T, tps, first, last, mem);
  return 0;
}

int run_stats(int argc, char** argv) {
  const int T = arg_int(argc, argv, "--seq", 16384);
  Cfg cfg;
  cfg.maxT = T;
  const double base = device_used_gib();
  Model model(cfg, 1, T, false, true);
  std::vector<int> tok(static_cast<size_t>(T));
  Rng rng(8);
  for (auto& t : tok) t = int(rng.below(cfg.V));
  model.tokens.upload(tok);
  std::vector<StreamStats> stats(static_cast<size_t>(cfg.L));
  std::printf("GPT-2 small shape, all %d x %d heads, streaming statistics at T=%d, %s\n", cfg.L, cfg.H, T,
              device_description().c_str());
  model.forward(&stats, model.tokens.get());  // warm-up
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
  const auto t0 = std::chrono::steady_clock::now();
  model.forward(&stats, model.tokens.get());
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mem = device_used_gib() - base;
  AttnDims d;
  d.B = 1, d.Hq = cfg.H, d.Hkv = cfg.H, d.T = T, d.Dh = cfg.Dh();
  const HeadSummary h0 = summarize_head(d, stats[0], 0, 0), hl = summarize_head(d, stats[cfg.L - 1], 0, cfg.H - 1);
  std::printf("time %.3f s (forward + statistics, %d heads), device memory %.2f GiB (a single fp32 T x T map would be "
              "%.2f GiB)\n", sec, cfg.L * cfg.H, mem, double(T) * T * 4 / double(1 << 30));
  std::printf("layer 0 head 0: sink mass %.4f, norm entropy %.4f, prev-token %.4f, top-8 mass %.4f, median k0.9/n "
              "%.4f; last head: sink mass %.4f, norm entropy %.4f\n", h0.sink_mass, h0.norm_entropy, h0.prev_token,
              h0.topk[3], h0.cover_median, hl.sink_mass, hl.norm_entropy);
  std::printf("{\"bench\":\"stats\",\"impl\":\"attnlab\",\"T\":%d,\"seconds\":%.4f,\"mem_gib\":%.3f}\n", T, sec, mem);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode != "train" && mode != "model" && mode != "stats") {
      std::fprintf(stderr, "usage: bench_gpu_gpt2 train [--batch 8] [--seq 1024] [--steps 20] [--tf32 1]\n"
                           "       bench_gpu_gpt2 model [--batch 8] [--seq 1024] [--steps 20]\n"
                           "       bench_gpu_gpt2 stats [--seq 16384]\n");
      return 2;
    }
    require_cuda("bench_gpu_gpt2");
    if (mode == "model") return run_model(argc, argv);
    return mode == "train" ? run_train(argc, argv) : run_stats(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu_gpt2: %s\n", e.what());
    return 1;
  }
}
