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
// long sequence costs O(T x d) for the whole model, not per layer.
struct BlockActs {
  Tensor x, xn1, lin, q, k, v, heads, merged, mid, xn2, h1, h3, act, tmp;
};

class Block {
 public:
  using Acts = BlockActs;

  Block(const ModelConfig& cfg, int layer);
  void init(Rng& rng, float std, float residual_std);
  void append_params(std::vector<Param>& ps);

  // y = block(x), x and y [B, T, D] (y must not alias x). Observers see attention and may edit
  // head outputs. keep = false (inference) lets the attention variant skip its backward caches,
  // writes every intermediate into `ws` and keeps nothing in the block.
  void forward(const float* x, float* y, int B, int T,
               const std::vector<ForwardObserver*>& observers, bool keep = true,
               Acts* ws = nullptr);
  // Cached decoding: x, y [B, n, D] are positions first..first+n-1; their keys and values join
  // `kv` (rows first.. of each kv head) and attention reads every cached position.
  void forward_cached(const float* x, float* y, int B, int n, int first, KVCacheLayer& kv,
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
  // Hkv keeps them apart) from xn [B*T, D].
  void project_qkv(Acts& a, const float* xn, int B, int T, int kv_heads);
  // heads [B, H, T, Dh] -> out [N, D] through W_O (merging into `merged`, all N rows when
  // `keep` for the backward, else a chunk at a time).
  void output_projection(const float* heads, Tensor& merged, float* out, int B, int T, bool keep);
  void attention_forward(Acts& a, float* out);  // reads a.xn1; out [N, D], before the residual
  void attention_backward(const float* dout, float* dxn);  // dxn overwritten
  // Residual and MLP after attention: mid holds the attention output on entry and x + it on
  // return; y = mid + mlp(...). mid may be y itself (inference).
  void finish(const float* x, float* mid, float* y, int N, Acts& a, bool keep);
  void mlp_forward(Acts& a, const float* xn, float* out, int N, bool keep);
  void mlp_backward(const float* dout, float* dxn);

  const ModelConfig cfg_;
  const int layer_;
  const int H_, Hkv_, Dh_, D_, F_;
  NormLayer attn_norm_, mlp_norm_;
  LinearLayer wq_, wk_, wv_, wo_, w1_, w2_, w3_;
  std::unique_ptr<Attention> attn_;
  const std::vector<ForwardObserver*>* observers_ = nullptr;
  bool keep_ = true;

  int B_ = 0, T_ = 0;
  Acts acts_;  // of the last training forward
};

}  // namespace attnlab
