#pragma once
// The shared engine of every score-based variant: per head, S = Q K^T / sqrt(Dh) (+ an optional
// bias), keys hidden by causality or a mask get -inf, each row goes through the variant's row
// transform A_t = f(S_t), and out = A V. Forward, backward, pattern and cached decoding are
// written once here; a variant supplies only f and its backward (and, where it has one, a bias
// or a sink slot).
//
// Tiles: query rows go in tiles of kTileRows; a tile's key set is the union of the keys its
// rows see (MaskSet::visible_keys), so window(size=w) costs O(T w) in time and memory, and each
// tile is two GEMMs (S = Q K_tile^T, O = A V_tile). A row handed to a variant lists the tile's
// keys (Row::keys); those its query does not see hold -inf. Training keeps each tile's weights
// for backward (O(sum of tile key counts) per head: about T^2/2 causal, T (w + kTileRows) for a
// window); inference keeps nothing and needs O(kTileRows x T) scratch per thread, pattern()
// O(kPatternRows x T) per call.
#include <vector>

#include "core/attention/attention.h"
#include "core/attention/mask.h"

namespace attnlab {

class ScoreAttention : public Attention {
 public:
  ScoreAttention(const AttnBuildContext& ctx, MaskSet masks);

  std::string spec() const final { return base_spec() + masks_.spec_suffix(masks_in_base_spec_); }
  void forward(const AttnInputs& in, float* out) override;
  void backward(const AttnInputs& in, const float* dout, const AttnGrads& grads) override;
  void pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const override;
  void pattern_rows(const AttnInputs& in, int b, int h, int first, const RowVisitor& visit) const override;
  void forward_cached(const CachedAttnInputs& in, float* out) override;
  bool supports_cached_decoding() const override { return !length_dependent(); }
  bool reads_input() const override { return false; }  // fox's gates override this

  const MaskSet& masks() const { return masks_; }

 protected:
  struct Row {
    int b, h, t;      // t: the query position, 0-based
    int T;            // sequence length of this call (row t of a forward on T positions)
    int n_vis;        // keys the masks let query t see (t + 1 without masks)
    int n;            // entries of the row's arrays
    const int* keys;  // the key position of each entry, ascending; covers every visible key
  };

  // The variant's spec without mask modifiers, e.g. "sigmoid(bias=-log_n,norm=false)".
  virtual std::string base_spec() const = 0;

  // a[i] = f(s)[i] for i in 0..r.n-1; s[i] = -inf where hidden (a[i] must come out 0 there).
  // sink: when has_sink(), points to the extra logit on entry and receives its weight.
  virtual void row_forward(const Row& r, const float* s, float* a, float* sink) const = 0;
  // ds = dL/ds from da = dL/da (i in 0..r.n-1). With a sink slot, sink_a is its weight, da_sink the
  // gradient reaching it, and *ds_sink receives dL/d(sink logit).
  virtual void row_backward(const Row& r, const float* s, const float* a, const float* da,
                            float* ds, float sink_a, float da_sink, float* ds_sink) const = 0;

  // Input-dependent state computed once per call (fox's cumulative log forget gates), indexed
  // by position over the call's T positions.
  virtual std::vector<float> prepare(const AttnInputs& in) const { return {}; }
  // The same for cached decoding over positions 0..T-1, extending *in.state for the new ones.
  virtual std::vector<float> prepare_cached(const CachedAttnInputs& in) const { return {}; }
  // Adds a bias to row t of the scores (entry i is key r.keys[i]; before masking).
  virtual void add_bias_row(const std::vector<float>& prep, const Row& r, float* s) const {}
  // Backward of add_bias_row into this (b, h)'s accumulator slice.
  virtual void bias_backward_row(const std::vector<float>& prep, const Row& r, const float* ds,
                                 double* acc) const {}

  // True when row t depends on the sequence length (sigmoid's -log_n): every position changes
  // with each new token, so cached decoding cannot reproduce the forward and refuses.
  virtual bool length_dependent() const { return false; }

  // An extra key slot seen by every query (softmax1, sink_logit, kv_bias).
  virtual bool has_sink() const { return false; }
  // q_row indexes in.q's rows: t in training, t - first in cached decoding.
  virtual float sink_logit(const AttnInputs& in, int b, int h, int q_row) const { return 0.0f; }
  virtual const float* sink_value(int h) const { return nullptr; }  // Dh floats, or none (0)
  // dq_head (T x Dh) is accumulated into; ds_sink, a_sink are per row (T).
  virtual void sink_backward(const AttnInputs& in, int b, int h, const float* ds_sink,
                             const float* a_sink, const float* dout_head, float* dq_head,
                             double* acc) const {}

  // Per-(b, h) double accumulators for parameter and dx gradients, reduced by finish_backward.
  virtual size_t n_acc(const AttnShape& s) const { return 0; }
  virtual void finish_backward(const AttnInputs& in, const AttnGrads& grads,
                               const std::vector<double>& acc) {}

  AttnBuildContext ctx_;
  MaskSet masks_;
  size_t masks_in_base_spec_ = 0;  // leading masks that base_spec() already spells out (window)

 private:
  // The query rows [t0, t1) and the keys any of them sees; a_off: where the tile's weights
  // start in a head's stored A.
  struct Tile {
    int t0 = 0, t1 = 0;
    std::vector<int> keys;
    size_t a_off = 0;
  };
  // One head of one call: query row t at q + (t - first) * Dh (out alike), key j at k + j * Dh.
  struct HeadIO {
    int b, h, T, first;
    const float* q;
    const float* k;
    const float* v;
  };
  struct Scratch;

  static constexpr int kTileRows = 64;
  static constexpr int kPatternRows = 16;  // pattern(): O(16 T) scratch per call
  Tile make_tile(int t0, int t1) const;
  // Tiles of kTileRows over query rows [first, T); *a_total: the weights they hold in all.
  std::vector<Tile> make_tiles(int first, int T, size_t* a_total) const;
  // Fills sc.S [rows, m] (m = tile keys) with the tile's scores, biased, -inf where hidden (by
  // causality, a mask or the selector), and sc.rows with each row's record. Needs sc.Kp.
  void tile_scores(const HeadIO& io, const Tile& tile, const std::vector<float>& prep,
                   const KeySelector* select, Scratch& sc) const;
  // tile_scores, then A [rows, m] = the rows' weights and sink_a [rows] their sink weights;
  // qv is what sink_logit reads.
  void tile_weights(const HeadIO& io, const Tile& tile, const AttnInputs& qv,
                    const std::vector<float>& prep, const KeySelector* select, Scratch& sc,
                    float* A, float* sink_a) const;
  // The tile's output rows = A V_tile (+ the sink value); out is the head's output block.
  void tile_output(const HeadIO& io, const Tile& tile, const float* A, const float* sink_a,
                   Scratch& sc, float* out) const;

  float scale_ = 1.0f;
  AttnShape cached_;
  std::vector<Tile> tiles_;    // of the last training forward
  size_t a_head_ = 0;          // weights kept per head
  std::vector<float> A_;       // [B, H, a_head_]: each tile's weights, row-major [rows, m]
  std::vector<float> sink_a_;  // [B, H, T]
  std::vector<float> prep_;
};

// Softmax over s[0..n) (entries -inf are hidden), with an optional extra logit *sink whose
// weight is written back to *sink. Shared by every softmax-based variant.
void softmax_row(const float* s, float* a, int n, float* sink);
void softmax_row_backward(const float* a, const float* da, float* ds, int n, float sink_a,
                          float da_sink, float* ds_sink);

}  // namespace attnlab
