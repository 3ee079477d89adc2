#pragma once
// A decoder-only transformer with explicit forward and backward (the llm.c way).
// Parameter names (used by checkpoints and every loader):
//   tok_emb.weight [V, D]          pos_emb.weight [context, D]  (learned positions only)
//   layers.{l}.attn_norm.weight/.bias [D]
//   layers.{l}.attn.wq.weight [H*Dh, D]  wk/wv.weight [Hkv*Dh, D]  wo.weight [D, H*Dh]  (+ .bias)
//   layers.{l}.attn.variant.<name>        parameters owned by the attention variant
//   layers.{l}.mlp_norm.weight/.bias [D]
//   layers.{l}.mlp.w1.weight [F, D] (fc, or gate for SwiGLU)  w3.weight [F, D] (SwiGLU up)
//   layers.{l}.mlp.w2.weight [D, F]  (+ .bias)
//   final_norm.weight/.bias [D]      lm_head.weight [V, D]  (untied only)
//   read_in.weight [D, input_dim] / read_out.weight [1, D] (+ .bias): continuous models only,
//   which have no tok_emb or lm_head
// Linear weights are [out, in] as in PyTorch; RoPE pairs follow config.rope_style.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/attention/attention.h"
#include "core/model/config.h"
#include "core/model/linear_layer.h"
#include "core/model/observer.h"
#include "core/tensor/tensor.h"
#include "core/train/batch.h"

namespace attnlab {

class Block;
struct BlockActs;
class KVCache;

class Transformer {
 public:
  explicit Transformer(const ModelConfig& config);  // validates the config
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const ModelConfig& config() const { return config_; }

  // GPT-2 style init: N(0, 0.02), residual projections scaled by 1/sqrt(2 * n_layers).
  void init_weights(uint64_t seed);

  std::vector<Param> params();
  int64_t num_params();

  // tokens [B, T] -> logits [B, T, vocab]. Throws if T > context or a token is out of range.
  // With keep_activations the activations backward needs are kept; without, attention streams
  // its rows (O(T) memory per head), so long-context analysis never holds T x T.
  const Tensor& forward(const int32_t* tokens, int B, int T, bool keep_activations = false);
  // An inference forward for its observers only (analysis): no logits, which at a large vocabulary
  // would be the biggest buffer of a long sequence (T x vocab), and logits() is left empty.
  void forward_without_logits(const int32_t* tokens, int B, int T);

  // Cached (incremental) decoding, core/model/kv_cache.h: runs tokens [B, n] at positions
  // cache.length() .. + n - 1, appends their keys and values to `cache` and returns their
  // logits [B, n, vocab] (row t equals forward() on positions 0..t). Throws if the positions
  // would pass the cache's capacity or the context, if a layer's variant cannot decode
  // incrementally, or if observers are attached (they expect whole sequences).
  const Tensor& forward_cached(const int32_t* tokens, int B, int n, KVCache& cache);
  // True when every layer's variant decodes incrementally and no observer is attached.
  bool supports_cached_decoding() const;

  // Continuous inputs [B, T, input_dim] -> predictions [B, T, 1] (models with input_dim > 0).
  const Tensor& forward_continuous(const float* features, int B, int T,
                                   bool keep_activations = false);

  // Forward plus masked mean cross-entropy (token batches) or masked mean squared error
  // (continuous batches, Batch::in_dim > 0) (sum(mask * nll) / sum(mask)); keeps activations.
  float forward_loss(const Batch& batch);
  // Gradients of the last forward_loss into every Param::grad (accumulating).
  void backward();
  void zero_grad();
  // Gradient buffers exist from the first forward_loss or zero_grad on: an inference-only model
  // (analysis, generation, the GUI) holds its weights once, not twice.
  void ensure_grads();

  const Tensor& logits() const { return logits_; }
  // Per-position cross-entropy of the last forward_loss, [B, T] (masked positions hold 0).
  const Tensor& token_losses() const { return token_losses_; }

  void add_observer(ForwardObserver* obs);
  void remove_observer(ForwardObserver* obs);
  void clear_observers() { observers_.clear(); }

  Attention& attention(int layer);
  // Puts `a` in place of layer `layer`'s attention variant and returns the one it replaces, for
  // inference-time interventions (StreamingLLM's window + sinks mask, analysis/streaming_eval.h).
  // The caller swaps the original back before training again: the trainer's parameter list
  // points into the original variant's parameters.
  std::unique_ptr<Attention> swap_attention(int layer, std::unique_ptr<Attention> a);

  // Copies named weights into the parameters. Every parameter must be present with the right
  // shape; unknown names are an error too. Messages name the tensor.
  void load_weights(const std::map<std::string, Tensor>& weights);
  // Moves one named tensor into its parameter, checked as load_weights checks it: a loader can
  // fill the model tensor by tensor and never hold the weights twice.
  void load_weight(const std::string& name, Tensor&& t);
  std::map<std::string, Tensor> weights();  // copies, keyed by parameter name
  // Moves the parameters out (the model is empty afterwards and only fit to be destroyed).
  std::map<std::string, Tensor> take_weights();

 private:
  void embed(const int32_t* tokens, int B, int T);  // checks tokens and length; x0_ = embeddings
  void run_trunk(bool keep_activations);  // x0_ (+ positions) -> blocks -> final norm
  void final_norm(int N);                 // xf_ -> xf_norm_
  float mse_forward();

  ModelConfig config_;
  LinearLayer read_in_, read_out_;  // continuous models only
  std::vector<float> features_, float_targets_;
  Tensor tok_emb_, tok_emb_grad_;
  Tensor pos_emb_, pos_emb_grad_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::unique_ptr<BlockActs> infer_ws_;  // the buffers all blocks share in inference: O(T x d)
  Tensor final_norm_w_, final_norm_b_, final_norm_w_grad_, final_norm_b_grad_;
  Tensor lm_head_, lm_head_grad_;
  // activations of the last forward
  int B_ = 0, T_ = 0;
  std::vector<int32_t> tokens_, targets_;
  Tensor x0_, xf_, xf_norm_, logits_, dlogits_, token_losses_;
  Tensor final_norm_cache_;  // [2, N]: mean (LayerNorm only) and rstd of the final norm
  std::vector<float> loss_mask_;
  float mask_sum_ = 0;
  std::vector<ForwardObserver*> observers_;
};

// Sampling. temperature 0 means greedy argmax. Stops after max_new tokens, or at `stop_token`
// (>= 0). The prompt must fit in the context: a longer one is an error, never truncated silently.
struct SampleOptions {
  int max_new = 256;
  float temperature = 0.0f;
  float top_p = 1.0f;
  uint64_t seed = 0;
  int stop_token = -1;
};
// Optional parts of cached decoding: the cache to decode into (its key selector applies) and a
// call once the prompt is prefilled (KV compression, analysis/sparse/decode_hook.h). Given a
// cache, a model that cannot decode incrementally is an error instead of the recompute path.
struct DecodeHooks {
  KVCache* cache = nullptr;
  std::function<void(KVCache&)> after_prefill;
};
std::vector<int32_t> generate(Transformer& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& opts, const DecodeHooks& hooks = {});

}  // namespace attnlab
