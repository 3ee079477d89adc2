#pragma once
// The interface every attention variant implements. A variant sees one layer's
// per-head queries, keys and values and mixes values across positions; it owns
// any parameters of its own (gates, sink logits, ...) and the caches its backward needs.
//
// Layout: q, k, v and out are [B, H, T, Dh], contiguous. For grouped-query attention
// the model has already repeated keys and values to H heads, so variants never see GQA.
// Attention is causal: query t sees keys j <= t (a variant may hide more of them).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace attnlab {

class Rng;

struct AttnShape {
  int B = 1, H = 1, T = 1, Dh = 1;
  int64_t head_size() const { return int64_t(T) * Dh; }
  int64_t numel() const { return int64_t(B) * H * T * Dh; }
};

// What a variant is built for; fixed for the life of the layer.
struct AttnBuildContext {
  int n_heads = 1;
  int head_dim = 1;
  int d_model = 1;
  int layer = 0;      // 0-based
  int n_layers = 1;
  int context = 1;    // the model's maximum sequence length
};

struct AttnInputs {
  AttnShape shape;
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  // [B, T, d_model]: the normalized block input. Variants with input-dependent gates
  // (gated, fox, gla, ...) read it; pure q/k/v variants ignore it.
  const float* x = nullptr;
  // False for inference (analysis, generation): a variant may then skip the caches backward
  // needs and stream rows, keeping memory O(T) per head instead of O(T x T).
  bool keep_for_backward = true;
};

struct AttnGrads {
  float* dq = nullptr;  // written (overwritten) by backward, same layout as q
  float* dk = nullptr;
  float* dv = nullptr;
  float* dx = nullptr;  // accumulated into (+=) by variants that read x; may be left untouched
};

// Called once per query row t with the weights that query gives keys 0..t (length t+1).
using RowVisitor = std::function<void(int t, const float* row)>;

class Attention {
 public:
  virtual ~Attention() = default;

  // The canonical spec string with every parameter, e.g. "window(size=64,sinks=4)".
  virtual std::string spec() const = 0;

  // out = mixed values, [B, H, T, Dh]. Caches what backward needs.
  virtual void forward(const AttnInputs& in, float* out) = 0;

  // Given dL/dout, writes dq, dk, dv, accumulates dx and the variant's own parameter grads.
  // Must follow a forward on the same inputs.
  virtual void backward(const AttnInputs& in, const float* dout, const AttnGrads& grads) = 0;

  // The attention matrix this variant implies for head h of batch item b, streamed row by
  // row, so analysis never needs T x T memory. For linear/recurrent variants this is the
  // equivalent causal matrix (e.g. phi(q_t).phi(k_j) / normaliser).
  virtual void pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const = 0;

  // False when rows need not sum to 1 (sigmoid without normalization, relu, softmax1, ...);
  // analysis then also reports the raw row mass and uses proxy-normalized rows.
  virtual bool normalized_rows() const { return true; }

  // True when out[b,h,t] == sum_j pattern[t][j] * v[b,h,j] exactly (the test suite checks it).
  virtual bool pattern_reproduces_output() const { return true; }

  // Learnable parameters owned by the variant (none for most).
  virtual std::vector<Param> params() { return {}; }
  virtual void init_params(Rng& rng) {}
};

// Throws attnlab::Error unless `in` has q, k, v and the shape a variant built for `ctx` takes;
// `what` ("forward", "backward", "pattern") names the call in the message.
void check_attention_inputs(const AttnInputs& in, const AttnBuildContext& ctx, const char* what);

// Builds a variant from a spec string such as "softmax", "sigmoid(bias=-2,norm=false)" or
// "window(size=64,sinks=4)". Throws attnlab::Error for an unknown name or parameter,
// listing what exists.
std::unique_ptr<Attention> make_attention(const std::string& spec, const AttnBuildContext& ctx);

// Names of every registered variant, and a default spec for each (used by the
// registry-wide gradient tests and by `attnlab variants`).
struct VariantInfo {
  std::string name;
  std::string summary;       // one line, with the source it follows
  std::string params_help;   // e.g. "size=int (required), sinks=int (default 0)"
  std::vector<std::string> test_specs;  // specs the gradient tests exercise
};
const std::vector<VariantInfo>& attention_variants();

}  // namespace attnlab
