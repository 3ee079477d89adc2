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
  int layer = 0;  // 0-based
  int n_layers = 1;
  int context = 1;  // the model's maximum sequence length
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

// Sparse attention hook: which of a query's candidate keys attention keeps. The engine calls it
// once per (layer, batch item, head, query row) with the row's candidates, after masking and
// before the row transform; candidates left out become hidden (-inf), so a softmax head
// renormalizes over the kept keys. Score-based variants only.
struct KeySelectQuery {
  int layer = 0, b = 0, h = 0;
  int t = 0;  // query position
  int Dh = 0;
  const float* q = nullptr;       // [Dh] this query (after RoPE)
  const float* k = nullptr;       // key j of this head at k + j * Dh, j = 0..t (after RoPE)
  int n = 0;                      // candidates of this row
  const int* keys = nullptr;      // their positions, ascending
  const float* scores = nullptr;  // their scores (scaled, biased); -inf = hidden by a mask
};
// Appends to `keep` the positions to keep (any order; positions not among the candidates are
// ignored). Called serially: a selector may keep state without locking.
using KeySelector = std::function<void(const KeySelectQuery& query, std::vector<int>& keep)>;

// One call of cached (incremental) decoding, made by core/model/kv_cache.h: outputs for the
// new positions [first, T) given the keys and values of every position [0, T).
struct CachedAttnInputs {
  int B = 1, H = 1, Hkv = 1, Dh = 1;
  int T = 1;      // positions with keys: cached ones plus the new ones
  int first = 0;  // first new position; q, x and out hold positions first..T-1
  int capacity = 1;       // rows of k and v per kv head
  int max_positions = 1;  // the cache's capacity in positions (= capacity until compacted)
  const float* q = nullptr;  // [B, H, T - first, Dh]
  // [B, Hkv, capacity, Dh], rows 0..T-1 filled (a compacted cache: see positions and head_start);
  // query head h reads kv head h / (H / Hkv)
  const float* k = nullptr;
  const float* v = nullptr;
  const float* x = nullptr;  // [B, T - first, d_model]: the normalized block input, new rows
  // The variant's own per-sequence state (fox's cumulative forget gates, ...): empty at the
  // first call of a sequence, kept by the cache between calls.
  std::vector<double>* state = nullptr;
  const KeySelector* select = nullptr;  // null: dense
  // A compacted cache (KVCache::compact): [B * Hkv] lists, the position of each stored row of k
  // and v (ascending; capacity then counts rows). Null: row j holds position j.
  const std::vector<std::vector<int>>* positions = nullptr;
  // With positions: [B * Hkv], the float offset of each kv head's rows in k and v (heads of a
  // compacted cache differ in size).
  const int64_t* head_start = nullptr;
  int n_new() const { return T - first; }
};

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
  // Rows first..T-1 of pattern() only (vertical_slash estimates from the last rows); this
  // default computes every row and skips the others, the score-based engine skips their tiles.
  virtual void pattern_rows(const AttnInputs& in, int b, int h, int first, const RowVisitor& visit) const {
    pattern(in, b, h, [&](int t, const float* row) {
      if (t >= first) visit(t, row);
    });
  }

  // False when forward() and pattern() never read AttnInputs::x (pure q, k, v variants): an
  // inference forward then keeps no [B, T, d_model] normalized input through attention and
  // passes x = null.
  virtual bool reads_input() const { return true; }

  // False when rows need not sum to 1 (sigmoid without normalization, relu, softmax1, ...);
  // analysis then also reports the raw row mass and uses proxy-normalized rows.
  virtual bool normalized_rows() const { return true; }

  // True when out[b,h,t] == sum_j pattern[t][j] * v[b,h,j] exactly (the test suite checks it).
  virtual bool pattern_reproduces_output() const { return true; }

  // Cached decoding: out [B, H, T - first, Dh] for the new positions, equal to rows first..T-1
  // of forward() on positions 0..T-1. Variants that do not support it throw an Error saying so
  // (the default) and report false from supports_cached_decoding().
  virtual void forward_cached(const CachedAttnInputs& in, float* out);
  virtual bool supports_cached_decoding() const { return false; }

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
  std::string summary;                  // one line, with the source it follows
  std::string params_help;              // e.g. "size=int (required), sinks=int (default 0)"
  std::vector<std::string> test_specs;  // specs the gradient tests exercise
};
const std::vector<VariantInfo>& attention_variants();

}  // namespace attnlab
