#pragma once
// The shared engine of every score-based variant: per head, S = Q K^T / sqrt(Dh) (+ an optional
// bias), keys hidden by causality or a mask get -inf, each row goes through the variant's row
// transform A_t = f(S_t), and out = A V. Forward, backward and pattern are written once here;
// a variant supplies only f and its backward (and, where it has one, a bias or a sink slot).
//
// Memory: forward keeps A for every (b, h) for backward (B*H*T*T floats, fine at training
// sizes) and T x T scratch per thread; pattern streams rows with O(T) memory.
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

  const MaskSet& masks() const { return masks_; }

 protected:
  struct Row {
    int b, h, t;  // t is 0-based; the row covers keys 0..t
    int T;        // sequence length of this call
    int n_vis;    // keys visible to query t (t + 1 without masks)
  };

  // The variant's spec without mask modifiers, e.g. "sigmoid(bias=-log_n,norm=false)".
  virtual std::string base_spec() const = 0;

  // a[j] = f(s)[j] for j in 0..t; s[j] = -inf where hidden (a[j] must come out 0 there).
  // sink: when has_sink(), points to the extra logit on entry and receives its weight.
  virtual void row_forward(const Row& r, const float* s, float* a, float* sink) const = 0;
  // ds = dL/ds from da = dL/da (j in 0..t). With a sink slot, sink_a is its weight, da_sink the
  // gradient reaching it, and *ds_sink receives dL/d(sink logit).
  virtual void row_backward(const Row& r, const float* s, const float* a, const float* da,
                            float* ds, float sink_a, float da_sink, float* ds_sink) const = 0;

  // Input-dependent state computed once per call (fox's cumulative log forget gates).
  virtual std::vector<float> prepare(const AttnInputs& in) const { return {}; }
  // Adds a bias to row t of the scores (before masking).
  virtual void add_bias_row(const std::vector<float>& prep, const Row& r, float* s) const {}
  // Backward of add_bias_row into this (b, h)'s accumulator slice.
  virtual void bias_backward_row(const std::vector<float>& prep, const Row& r, const float* ds,
                                 double* acc) const {}

  // An extra key slot seen by every query (softmax1, sink_logit, kv_bias).
  virtual bool has_sink() const { return false; }
  virtual float sink_logit(const AttnInputs& in, int b, int h, int t) const { return 0.0f; }
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
  // Inference: row by row, O(T) memory per thread, nothing kept for backward.
  void forward_streaming(const AttnInputs& in, float* out);
  // Fills row t of the scores: scale * q_t . k_j, bias, -inf where hidden; returns n_vis.
  int score_row(const AttnInputs& in, const std::vector<float>& prep, int b, int h, int t,
                float* s) const;
  void finish_row_mask(const std::vector<float>& prep, const Row& r, float* s) const;

  float scale_ = 1.0f;
  AttnShape cached_;
  std::vector<float> A_;       // [B, H, T, T] row-major, zeros above the diagonal
  std::vector<float> sink_a_;  // [B, H, T]
  std::vector<float> prep_;
};

// Softmax over s[0..n) (entries -inf are hidden), with an optional extra logit *sink whose
// weight is written back to *sink. Shared by every softmax-based variant.
void softmax_row(const float* s, float* a, int n, float* sink);
void softmax_row_backward(const float* a, const float* da, float* ds, int n, float sink_a,
                          float da_sink, float* ds_sink);

}  // namespace attnlab
