#include "core/model/block.h"

#include <cmath>
#include <cstring>

#include "core/layers/activation.h"
#include "core/layers/rope.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// [B, T, nh, Dh] (rows of a linear output) -> [B, H, T, Dh], repeating each of the nh heads
// H/nh times: grouped-query attention gives query head h the kv head h / (H/nh), as in HF.
void split_heads(float* dst, const float* src, int B, int T, int nh, int H, int Dh) {
  const int rep = H / nh;
#pragma omp parallel for collapse(2)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int t = 0; t < T; ++t)
        std::memcpy(dst + ((int64_t(b) * H + h) * T + t) * Dh,
                    src + ((int64_t(b) * T + t) * nh + h / rep) * Dh, sizeof(float) * Dh);
}

// The adjoint of split_heads: sums the gradients of the repeated heads.
void merge_heads(float* dst, const float* src, int B, int T, int nh, int H, int Dh) {
  const int rep = H / nh;
#pragma omp parallel for collapse(2)
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int g = 0; g < nh; ++g) {
        float* d = dst + ((int64_t(b) * T + t) * nh + g) * Dh;
        std::memset(d, 0, sizeof(float) * Dh);
        for (int r = 0; r < rep; ++r) {
          const float* s = src + ((int64_t(b) * H + g * rep + r) * T + t) * Dh;
          for (int i = 0; i < Dh; ++i) d[i] += s[i];
        }
      }
}

}  // namespace

Block::Block(const ModelConfig& cfg, int layer)
    : cfg_(cfg),
      layer_(layer),
      H_(cfg.n_heads),
      Hkv_(cfg.n_kv_heads),
      Dh_(cfg.head_dim()),
      D_(cfg.d_model),
      F_(cfg.mlp == MlpKind::none ? 0 : cfg.d_ff),
      attn_norm_(cfg.norm, cfg.d_model, cfg.norm_eps),
      mlp_norm_(cfg.norm, cfg.d_model, cfg.norm_eps),
      wq_(D_, H_ * Dh_, cfg.bias),
      wk_(D_, Hkv_ * Dh_, cfg.bias),
      wv_(D_, Hkv_ * Dh_, cfg.bias),
      wo_(H_ * Dh_, D_, cfg.bias),
      w1_(D_, F_, cfg.bias),
      w2_(F_, D_, cfg.bias) {
  if (cfg.mlp == MlpKind::swiglu) w3_ = LinearLayer(D_, F_, cfg.bias);
  attn_ = make_attention(cfg.attention_for_layer(layer), cfg.attention_context(layer));
}

void Block::init(Rng& rng, float std, float residual_std) {
  for (LinearLayer* l : {&wq_, &wk_, &wv_, &w1_, &w3_}) l->init(rng, std);
  wo_.init(rng, residual_std);
  w2_.init(rng, residual_std);
  attn_->init_params(rng);
}

void Block::append_params(std::vector<Param>& ps) {
  std::string p = "layers." + std::to_string(layer_) + ".";
  attn_norm_.append_params(ps, p + "attn_norm");
  wq_.append_params(ps, p + "attn.wq");
  wk_.append_params(ps, p + "attn.wk");
  wv_.append_params(ps, p + "attn.wv");
  wo_.append_params(ps, p + "attn.wo");
  for (Param& vp : attn_->params()) {
    vp.name = p + "attn.variant." + vp.name;
    ps.push_back(vp);
  }
  if (cfg_.mlp == MlpKind::none) return;
  mlp_norm_.append_params(ps, p + "mlp_norm");
  w1_.append_params(ps, p + "mlp.w1");
  if (w3_.W.numel()) w3_.append_params(ps, p + "mlp.w3");
  w2_.append_params(ps, p + "mlp.w2");
}

void Block::attention_forward(const float* xn, float* out) {
  const int N = B_ * T_;
  qkv_lin_q_.resize({N, H_ * Dh_});
  qkv_lin_k_.resize({N, Hkv_ * Dh_});
  qkv_lin_v_.resize({N, Hkv_ * Dh_});
  wq_.forward(qkv_lin_q_.ptr(), xn, N);
  wk_.forward(qkv_lin_k_.ptr(), xn, N);
  wv_.forward(qkv_lin_v_.ptr(), xn, N);
  q_.resize({B_, H_, T_, Dh_});
  k_.resize({B_, H_, T_, Dh_});
  v_.resize({B_, H_, T_, Dh_});
  split_heads(q_.ptr(), qkv_lin_q_.ptr(), B_, T_, H_, H_, Dh_);
  split_heads(k_.ptr(), qkv_lin_k_.ptr(), B_, T_, Hkv_, H_, Dh_);
  split_heads(v_.ptr(), qkv_lin_v_.ptr(), B_, T_, Hkv_, H_, Dh_);
  if (cfg_.pos == PosEncoding::rope) {
    rope_apply(q_.ptr(), B_, H_, T_, Dh_, cfg_.rotary_dims(), cfg_.rope_theta, cfg_.rope_style,
               false);
    rope_apply(k_.ptr(), B_, H_, T_, Dh_, cfg_.rotary_dims(), cfg_.rope_theta, cfg_.rope_style,
               false);
  }
  AttnInputs in{{B_, H_, T_, Dh_}, q_.ptr(), k_.ptr(), v_.ptr(), xn, keep_};
  heads_.resize({B_, H_, T_, Dh_});
  attn_->forward(in, heads_.ptr());
  for (ForwardObserver* o : *observers_) {
    o->on_attention({layer_, attn_.get(), &in});
    o->on_head_outputs(layer_, in.shape, heads_.ptr());
  }
  // [B, H, T, Dh] -> [B, T, H, Dh]
  merged_.resize({N, H_ * Dh_});
#pragma omp parallel for collapse(2)
  for (int b = 0; b < B_; ++b)
    for (int h = 0; h < H_; ++h)
      for (int t = 0; t < T_; ++t)
        std::memcpy(merged_.ptr() + ((int64_t(b) * T_ + t) * H_ + h) * Dh_,
                    heads_.ptr() + ((int64_t(b) * H_ + h) * T_ + t) * Dh_, sizeof(float) * Dh_);
  wo_.forward(out, merged_.ptr(), N);
}

void Block::attention_backward(const float* dout, float* dxn) {
  const int N = B_ * T_;
  Tensor dmerged({N, H_ * Dh_});
  wo_.backward(dmerged.ptr(), dout, merged_.ptr(), N);
  Tensor dheads({B_, H_, T_, Dh_});
#pragma omp parallel for collapse(2)
  for (int b = 0; b < B_; ++b)
    for (int h = 0; h < H_; ++h)
      for (int t = 0; t < T_; ++t)
        std::memcpy(dheads.ptr() + ((int64_t(b) * H_ + h) * T_ + t) * Dh_,
                    dmerged.ptr() + ((int64_t(b) * T_ + t) * H_ + h) * Dh_, sizeof(float) * Dh_);
  Tensor dq({B_, H_, T_, Dh_}), dk({B_, H_, T_, Dh_}), dv({B_, H_, T_, Dh_});
  Tensor dx_variant({N, D_});
  AttnInputs in{{B_, H_, T_, Dh_}, q_.ptr(), k_.ptr(), v_.ptr(), xn1_.ptr()};
  attn_->backward(in, dheads.ptr(), {dq.ptr(), dk.ptr(), dv.ptr(), dx_variant.ptr()});
  if (cfg_.pos == PosEncoding::rope) {
    rope_apply(dq.ptr(), B_, H_, T_, Dh_, cfg_.rotary_dims(), cfg_.rope_theta, cfg_.rope_style,
               true);
    rope_apply(dk.ptr(), B_, H_, T_, Dh_, cfg_.rotary_dims(), cfg_.rope_theta, cfg_.rope_style,
               true);
  }
  Tensor dq_lin({N, H_ * Dh_}), dk_lin({N, Hkv_ * Dh_}), dv_lin({N, Hkv_ * Dh_});
  merge_heads(dq_lin.ptr(), dq.ptr(), B_, T_, H_, H_, Dh_);
  merge_heads(dk_lin.ptr(), dk.ptr(), B_, T_, Hkv_, H_, Dh_);
  merge_heads(dv_lin.ptr(), dv.ptr(), B_, T_, Hkv_, H_, Dh_);
  Tensor tmp({N, D_});
  wq_.backward(dxn, dq_lin.ptr(), xn1_.ptr(), N);
  wk_.backward(tmp.ptr(), dk_lin.ptr(), xn1_.ptr(), N);
  for (int64_t i = 0; i < tmp.numel(); ++i) dxn[i] += tmp.data[i] + dx_variant.data[i];
  wv_.backward(tmp.ptr(), dv_lin.ptr(), xn1_.ptr(), N);
  for (int64_t i = 0; i < tmp.numel(); ++i) dxn[i] += tmp.data[i];
}

void Block::mlp_forward(const float* xn, float* out) {
  const int N = B_ * T_;
  h1_.resize({N, F_});
  act_.resize({N, F_});
  w1_.forward(h1_.ptr(), xn, N);
  if (cfg_.mlp == MlpKind::swiglu) {
    h3_.resize({N, F_});
    w3_.forward(h3_.ptr(), xn, N);
    swiglu_forward(act_.ptr(), h1_.ptr(), h3_.ptr(), act_.numel());
  } else {
    gelu_forward(act_.ptr(), h1_.ptr(), act_.numel(), cfg_.mlp == MlpKind::gelu_tanh);
  }
  w2_.forward(out, act_.ptr(), N);
}

void Block::mlp_backward(const float* dout, float* dxn) {
  const int N = B_ * T_;
  Tensor dact({N, F_}), dh1({N, F_});
  w2_.backward(dact.ptr(), dout, act_.ptr(), N);
  if (cfg_.mlp == MlpKind::swiglu) {
    Tensor dh3({N, F_}), tmp({N, D_});
    swiglu_backward(dh1.ptr(), dh3.ptr(), dact.ptr(), h1_.ptr(), h3_.ptr(), dact.numel());
    w1_.backward(dxn, dh1.ptr(), xn2_.ptr(), N);
    w3_.backward(tmp.ptr(), dh3.ptr(), xn2_.ptr(), N);
    for (int64_t i = 0; i < tmp.numel(); ++i) dxn[i] += tmp.data[i];
  } else {
    gelu_backward(dh1.ptr(), dact.ptr(), h1_.ptr(), dact.numel(), cfg_.mlp == MlpKind::gelu_tanh);
    w1_.backward(dxn, dh1.ptr(), xn2_.ptr(), N);
  }
}

void Block::forward(const float* x, float* y, int B, int T,
                    const std::vector<ForwardObserver*>& observers, bool keep) {
  keep_ = keep;
  B_ = B;
  T_ = T;
  observers_ = &observers;
  const int N = B * T;
  x_.resize({N, D_});
  std::memcpy(x_.ptr(), x, sizeof(float) * x_.numel());
  xn1_.resize({N, D_});
  attn_norm_.forward(xn1_.ptr(), x, N);
  Tensor attn_out({N, D_});
  attention_forward(xn1_.ptr(), attn_out.ptr());
  mid_.resize({N, D_});
  for (int64_t i = 0; i < mid_.numel(); ++i) mid_.data[i] = x[i] + attn_out.data[i];
  if (cfg_.mlp == MlpKind::none) {
    std::memcpy(y, mid_.ptr(), sizeof(float) * mid_.numel());
    return;
  }
  // Parallel residual: the MLP reads the block input, not the attention output.
  const float* mlp_in = cfg_.parallel_residual ? x : mid_.ptr();
  xn2_.resize({N, D_});
  mlp_norm_.forward(xn2_.ptr(), mlp_in, N);
  Tensor mlp_out({N, D_});
  mlp_forward(xn2_.ptr(), mlp_out.ptr());
  for (int64_t i = 0; i < mid_.numel(); ++i) y[i] = mid_.data[i] + mlp_out.data[i];
}

void Block::backward(const float* dy, float* dx) {
  if (!keep_) throw Error("backward after an inference-only forward (keep_activations = false)");
  const int N = B_ * T_;
  const bool has_mlp = cfg_.mlp != MlpKind::none;
  Tensor dxn2({N, D_}), dmlp_in({N, D_});
  if (has_mlp) {
    mlp_backward(dy, dxn2.ptr());
    const float* mlp_in = cfg_.parallel_residual ? x_.ptr() : mid_.ptr();
    mlp_norm_.backward(dmlp_in.ptr(), dxn2.ptr(), mlp_in, N);
  } else {
    dmlp_in.zero();
  }
  // dmid: gradient reaching the attention residual sum.
  Tensor dmid({N, D_});
  for (int64_t i = 0; i < dmid.numel(); ++i)
    dmid.data[i] = dy[i] + (cfg_.parallel_residual ? 0.0f : dmlp_in.data[i]);
  Tensor dxn1({N, D_}), dnorm({N, D_});
  attention_backward(dmid.ptr(), dxn1.ptr());
  attn_norm_.backward(dnorm.ptr(), dxn1.ptr(), x_.ptr(), N);
  for (int64_t i = 0; i < dmid.numel(); ++i)
    dx[i] = dmid.data[i] + dnorm.data[i] + (cfg_.parallel_residual ? dmlp_in.data[i] : 0.0f);
}

}  // namespace attnlab
