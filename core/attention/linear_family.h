#pragma once
// The linear / recurrent attention family on one engine. With feature maps qf = phi_q(q),
// kf = phi_k(k) (dimension F), an optional decay alpha_t (a scalar per head or one per key
// channel) and an optional delta rule with strength beta_t, the state S (F x Dh) follows
//   plain:  S_t = Diag(alpha_t) S_{t-1} + kf_t v_t^T
//   delta:  S_t = alpha_t (I - beta_t kf_t kf_t^T) S_{t-1} + beta_t kf_t v_t^T   (scalar alpha)
// and o_t = S_t^T qf_t, optionally divided by qf_t . z_t with z_t the same recurrence run on a
// constant-1 value column (normaliser "sum"), or by max(|qf_t . z_t|, 1) ("safe", Gu et al.'s
// choice for sign-indefinite kernels).
//
// forward() uses the chunked parallel form (intra-chunk pairwise terms + inter-chunk state);
// forward_recurrent() is the token-by-token form; the tests require them to agree within 1e-5.
// backward() runs the recurrence in reverse, recomputing states inside each chunk from the
// chunk-start states forward() saved. pattern() streams the implied causal matrix M with
// o = M V, running the recurrence on one-hot values (O(F T) memory per call).
#include <vector>

#include "core/attention/attention.h"

namespace attnlab {

class LinearFamily : public Attention {
 public:
  enum class Norm { none, sum, safe };
  enum class Decay { none, scalar, channel };

  LinearFamily(const AttnBuildContext& ctx, int feature_dim, Norm norm, Decay decay, bool delta,
               int chunk);

  void forward(const AttnInputs& in, float* out) override;
  void forward_recurrent(const AttnInputs& in, float* out);
  void backward(const AttnInputs& in, const float* dout, const AttnGrads& grads) override;
  void pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const override;
  bool normalized_rows() const override { return norm_ == Norm::sum; }
  bool reads_input() const override { return false; }  // gated variants override this

 protected:
  // f = phi(x) for one head vector x (Dh); queries include any score scale.
  virtual void feature(const float* x, float* f, bool query) const = 0;
  // dx += d phi / dx applied to df.
  virtual void feature_backward(const float* x, const float* df, float* dx, bool query) const = 0;
  // log alpha [B, H, T] (scalar) or [B, H, T, F] (channel); beta [B, H, T] (delta only).
  virtual void gates(const AttnInputs& in, float* log_alpha, float* beta) const {}
  // Parameter grads (+=) and dx (+=) from dL/d(log alpha) and dL/d(beta).
  virtual void gates_backward(const AttnInputs& in, const float* dlog_alpha, const float* dbeta,
                              float* dx) {}

  std::string chunk_suffix() const;  // ",chunk=N" for spec()
  AttnBuildContext ctx_;
  int F_;
  Norm norm_;
  Decay decay_;
  bool delta_;
  int chunk_;

 private:
  struct Buffers {
    std::vector<float> qf, kf, v, log_alpha, beta;  // v: [B, H, T, Dv], Dv = Dh (+1 with norm)
  };
  void prepare(const AttnInputs& in, Buffers& buf) const;
  void finish_output(const AttnShape& s, const float* oaug, float* out) const;
  int Dv(int Dh) const { return Dh + (norm_ == Norm::none ? 0 : 1); }

  AttnShape cached_;
  Buffers buf_;
  std::vector<float> oaug_;    // [B, H, T, Dv]: numerators and (last column) normalisers
  std::vector<float> states_;  // [B, H, n_chunks, F, Dv]: state before each chunk
};

}  // namespace attnlab
