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

class Block {
 public:
  Block(const ModelConfig& cfg, int layer);
  void init(Rng& rng, float std, float residual_std);
  void append_params(std::vector<Param>& ps);

  // y = block(x), x and y [B, T, D]. Observers see attention and may edit head outputs.
  // keep = false (inference) lets the attention variant skip its backward caches.
  void forward(const float* x, float* y, int B, int T,
               const std::vector<ForwardObserver*>& observers, bool keep = true);
  // dx = dL/dx given dy = dL/dy; parameter gradients accumulate.
  void backward(const float* dy, float* dx);

  Attention& attention() { return *attn_; }
  std::unique_ptr<Attention> swap_attention(std::unique_ptr<Attention> a) {
    attn_.swap(a);
    return a;
  }

 private:
  void attention_forward(const float* xn, float* out);     // out [N, D], before the residual add
  void attention_backward(const float* dout, float* dxn);  // dxn overwritten
  void mlp_forward(const float* xn, float* out);
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
  // activations of the last forward
  Tensor x_, xn1_, qkv_lin_q_, qkv_lin_k_, qkv_lin_v_, q_, k_, v_, heads_, merged_;
  Tensor mid_, xn2_, h1_, h3_, act_;
};

}  // namespace attnlab
