#pragma once
// One transformer block: pre-norm attention and MLP, sequential (GPT-2, Llama) or parallel
// (GPT-NeoX) residual. Owns its parameters, gradients and the activations backward needs.
#include <memory>
#include <string>
#include <vector>

#include "core/attention/attention.h"
#include "core/model/config.h"
#include "core/model/linear_layer.h"
#include "core/model/norm_layer.h"
#include "core/model/observer.h"

namespace attnlab {

struct KVCacheLayer;

// A block's activation buffers. A training forward fills the block's own (backward reads
// them); an inference forward writes into a workspace the model shares between its blocks, so a
// long sequence costs O(T x d) for the whole model, not per layer: q, k, v and the head outputs
// (plus the normalized input when the variant or an observer reads it) and chunks of rows.
struct BlockActs {
  Tensor x, xn1, lin, q, k, v, heads, merged, mid, xn2, h1, h3, act, tmp;
  Tensor xn_rows, out_rows;  // inference: one chunk of normalized rows and of outputs
};

class Block {
 public:
  using Acts = BlockActs;

  Block(const ModelConfig& cfg, int layer);
  void init(Rng& rng, float std, float residual_std);
  void append_params(std::vector<Param>& ps);

  // Training: y = block(x), x and y [B, T, D] (y must not alias x), keeping what backward needs.
  // Observers see attention and may edit head outputs.
  void forward(const float* x, float* y, int B, int T,
               const std::vector<ForwardObserver*>& observers);
  // Inference: x = block(x) in place, [B, T, D]. The attention variant skips its backward
  // caches, every intermediate goes into `ws` and the block keeps nothing.
  void infer(float* x, int B, int T, const std::vector<ForwardObserver*>& observers, Acts& ws);
  // Cached decoding, in place: x [B, n, D] holds positions first..first+n-1; their keys and
  // values join `kv` (rows first.. of each kv head) and attention reads every cached position.
  void forward_cached(float* x, int B, int n, int first, KVCacheLayer& kv,
                      const KeySelector* select, Acts& ws);
  // dx = dL/dx given dy = dL/dy; parameter gradients accumulate.
  void backward(const float* dy, float* dx);

  Attention& attention() { return *attn_; }
  std::unique_ptr<Attention> swap_attention(std::unique_ptr<Attention> a) {
    attn_.swap(a);
    return a;
  }

 private:
  // a.q [B, H, T, Dh], a.k and a.v [B, kv_heads, T, Dh] (kv_heads = H repeats GQA's kv heads,
  // Hkv keeps them apart) from the rows `in` [B*T, D]: normalized rows, or with `normalize`
  // the block input, normalized a chunk at a time into a.xn_rows.
  void project_qkv(Acts& a, const float* in, int B, int T, int kv_heads, bool normalize = false);
  void rope_qk(Acts& a, int B, int T, int kv_heads, int first);
  // a.heads = attention over a.q, a.k, a.v (RoPE applied here; xn: the normed input, may be null
  // when nothing reads it), then the observers see it; keeps backward caches when keep_.
  void attend(Acts& a, int B, int T, const float* xn,
              const std::vector<ForwardObserver*>& observers);
  // Training: heads [B, H, T, Dh] -> out [N, D] through W_O, keeping every merged row.
  void output_projection(const float* heads, float* out);
  void attention_backward(const float* dout, float* dxn);  // dxn overwritten
  // Training: residual and MLP after attention: mid holds the attention output on entry and
  // x + it on return; y = mid + mlp(...).
  void finish(const float* x, float* mid, float* y, int N);
  // Inference: x += W_O heads and the MLP, a chunk of rows at a time (both are row-wise once
  // attention has run), so no further [N, D] or [N, d_ff] buffer is needed.
  void residual_tail(float* x, const float* heads, int B, int T, Acts& a);
  void mlp_forward(const float* xn, float* out, int N);  // training: keeps h1, h3, act
  void mlp_rows(Acts& a, const float* xn, float* out, int n);  // inference: a.h1 (a.h3) scratch
  void mlp_backward(const float* dout, float* dxn);

  const ModelConfig cfg_;
  const int layer_;
  const int H_, Hkv_, Dh_, D_, F_;
  NormLayer attn_norm_, mlp_norm_;
  LinearLayer wq_, wk_, wv_, wo_, w1_, w2_, w3_;
  std::unique_ptr<Attention> attn_;
  bool keep_ = true;  // the last forward was a training forward

  int B_ = 0, T_ = 0;
  Acts acts_;  // of the last training forward
};

}  // namespace attnlab
