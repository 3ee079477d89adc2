#include "core/model/block.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/layers/activation.h"
#include "core/layers/rope.h"
#include "core/model/kv_cache.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// Copies of a few rows (a decoding step) are not worth waking threads for.
constexpr int64_t kParallelFloats = 1 << 15;

// The projections run over at most this many rows at a time, so their [rows, H x Dh] buffer
// stays small at long T (an inference forward at T = 16K would otherwise hold two more T x d
// buffers); a training batch of up to this many rows keeps its one GEMM per projection.
constexpr int kProjectionRows = 4096;
// An inference forward's output projection and MLP run over this many rows at a time: their
// [rows, d_ff] activations stay about 12 MB at d_ff = 3072 (twice that for SwiGLU).
constexpr int kTailRows = 1024;

// Rows r0 .. r0 + n of the flattened [B, T] in `src`, [n, nh, Dh] (a linear output), into
// [B, H, T, Dh], repeating each of the nh heads H/nh times: grouped-query attention gives query
// head h the kv head h / (H/nh), as in HF.
void split_heads(float* dst, const float* src, int T, int nh, int H, int Dh, int r0, int n) {
  const int rep = H / nh;
#pragma omp parallel for if (int64_t(n) * H * Dh > kParallelFloats)
  for (int i = 0; i < n; ++i) {
    const int64_t b = (r0 + i) / T, t = (r0 + i) % T;
    for (int h = 0; h < H; ++h)
      std::memcpy(dst + ((b * H + h) * T + t) * Dh, src + (int64_t(i) * nh + h / rep) * Dh, sizeof(float) * Dh);
  }
}

// The reverse for the output projection: rows r0 .. r0 + n of [B, H, T, Dh] into [n, H x Dh].
void merge_rows(float* dst, const float* heads, int T, int H, int Dh, int r0, int n) {
#pragma omp parallel for if (int64_t(n) * H * Dh > kParallelFloats)
  for (int i = 0; i < n; ++i) {
    const int64_t b = (r0 + i) / T, t = (r0 + i) % T;
    for (int h = 0; h < H; ++h)
      std::memcpy(dst + (int64_t(i) * H + h) * Dh, heads + ((b * H + h) * T + t) * Dh, sizeof(float) * Dh);
  }
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

void Block::project_qkv(Acts& a, const float* in, int B, int T, int kv_heads, bool normalize) {
  // One projection buffer in turn for q, k and v: each is dead once split into heads.
  const int N = B * T, rows = std::min(N, kProjectionRows);
  a.lin.resize({rows, H_ * Dh_});
  if (normalize) a.xn_rows.resize({rows, D_});
  a.q.resize({B, H_, T, Dh_});
  a.k.resize({B, kv_heads, T, Dh_});
  a.v.resize({B, kv_heads, T, Dh_});
  for (int r0 = 0; r0 < N; r0 += rows) {
    const int n = std::min(rows, N - r0);
    const float* x = in + int64_t(r0) * D_;
    if (normalize) {
      attn_norm_.forward(a.xn_rows.ptr(), x, n);
      x = a.xn_rows.ptr();
    }
    wq_.forward(a.lin.ptr(), x, n);
    split_heads(a.q.ptr(), a.lin.ptr(), T, H_, H_, Dh_, r0, n);
    wk_.forward(a.lin.ptr(), x, n);
    split_heads(a.k.ptr(), a.lin.ptr(), T, Hkv_, kv_heads, Dh_, r0, n);
    wv_.forward(a.lin.ptr(), x, n);
    split_heads(a.v.ptr(), a.lin.ptr(), T, Hkv_, kv_heads, Dh_, r0, n);
  }
}

void Block::rope_qk(Acts& a, int B, int T, int kv_heads, int first) {
  if (cfg_.pos != PosEncoding::rope) return;
  rope_apply(a.q.ptr(), B, H_, T, Dh_, cfg_.rotary_dims(), cfg_.rope_theta, cfg_.rope_style, false,
             first);
  rope_apply(a.k.ptr(), B, kv_heads, T, Dh_, cfg_.rotary_dims(), cfg_.rope_theta, cfg_.rope_style,
             false, first);
}

void Block::attend(Acts& a, int B, int T, const float* xn,
                   const std::vector<ForwardObserver*>& observers) {
  rope_qk(a, B, T, H_, 0);
  AttnInputs in{{B, H_, T, Dh_}, a.q.ptr(), a.k.ptr(), a.v.ptr(), xn, keep_};
  a.heads.resize({B, H_, T, Dh_});
  attn_->forward(in, a.heads.ptr());
  for (ForwardObserver* o : observers) {
    o->on_attention({layer_, attn_.get(), &in});
    o->on_head_outputs(layer_, in.shape, a.heads.ptr());
  }
}

void Block::output_projection(const float* heads, float* out) {
  const int N = B_ * T_;
  acts_.merged.resize({N, H_ * Dh_});
  merge_rows(acts_.merged.ptr(), heads, T_, H_, Dh_, 0, N);
  wo_.forward(out, acts_.merged.ptr(), N);
}

void Block::attention_backward(const float* dout, float* dxn) {
  const int N = B_ * T_;
  Tensor dmerged({N, H_ * Dh_});
  wo_.backward(dmerged.ptr(), dout, acts_.merged.ptr(), N);
  Tensor dheads({B_, H_, T_, Dh_});
#pragma omp parallel for collapse(2)
  for (int b = 0; b < B_; ++b)
    for (int h = 0; h < H_; ++h)
      for (int t = 0; t < T_; ++t)
        std::memcpy(dheads.ptr() + ((int64_t(b) * H_ + h) * T_ + t) * Dh_,
                    dmerged.ptr() + ((int64_t(b) * T_ + t) * H_ + h) * Dh_, sizeof(float) * Dh_);
  Tensor dq({B_, H_, T_, Dh_}), dk({B_, H_, T_, Dh_}), dv({B_, H_, T_, Dh_});
  Tensor dx_variant({N, D_});
  AttnInputs in{{B_, H_, T_, Dh_}, acts_.q.ptr(), acts_.k.ptr(), acts_.v.ptr(), acts_.xn1.ptr()};
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
  wq_.backward(dxn, dq_lin.ptr(), acts_.xn1.ptr(), N);
  wk_.backward(tmp.ptr(), dk_lin.ptr(), acts_.xn1.ptr(), N);
  for (int64_t i = 0; i < tmp.numel(); ++i) dxn[i] += tmp.data[i] + dx_variant.data[i];
  wv_.backward(tmp.ptr(), dv_lin.ptr(), acts_.xn1.ptr(), N);
  for (int64_t i = 0; i < tmp.numel(); ++i) dxn[i] += tmp.data[i];
}

void Block::mlp_forward(const float* xn, float* out, int N) {
  Acts& a = acts_;
  a.h1.resize({N, F_});
  a.act.resize({N, F_});
  w1_.forward(a.h1.ptr(), xn, N);
  if (cfg_.mlp == MlpKind::swiglu) {
    a.h3.resize({N, F_});
    w3_.forward(a.h3.ptr(), xn, N);
    swiglu_forward(a.act.ptr(), a.h1.ptr(), a.h3.ptr(), a.act.numel());
  } else {
    gelu_forward(a.act.ptr(), a.h1.ptr(), a.act.numel(), cfg_.mlp == MlpKind::gelu_tanh);
  }
  w2_.forward(out, a.act.ptr(), N);
}

void Block::mlp_rows(Acts& a, const float* xn, float* out, int n) {
  a.h1.resize({n, F_});
  w1_.forward(a.h1.ptr(), xn, n);
  if (cfg_.mlp == MlpKind::swiglu) {
    a.h3.resize({n, F_});
    w3_.forward(a.h3.ptr(), xn, n);
    swiglu_forward(a.h1.ptr(), a.h1.ptr(), a.h3.ptr(), int64_t(n) * F_);
  } else {
    gelu_forward(a.h1.ptr(), a.h1.ptr(), int64_t(n) * F_, cfg_.mlp == MlpKind::gelu_tanh);
  }
  w2_.forward(out, a.h1.ptr(), n);
}

void Block::mlp_backward(const float* dout, float* dxn) {
  const int N = B_ * T_;
  Tensor dact({N, F_}), dh1({N, F_});
  w2_.backward(dact.ptr(), dout, acts_.act.ptr(), N);
  if (cfg_.mlp == MlpKind::swiglu) {
    Tensor dh3({N, F_}), tmp({N, D_});
    swiglu_backward(dh1.ptr(), dh3.ptr(), dact.ptr(), acts_.h1.ptr(), acts_.h3.ptr(), dact.numel());
    w1_.backward(dxn, dh1.ptr(), acts_.xn2.ptr(), N);
    w3_.backward(tmp.ptr(), dh3.ptr(), acts_.xn2.ptr(), N);
    for (int64_t i = 0; i < tmp.numel(); ++i) dxn[i] += tmp.data[i];
  } else {
    gelu_backward(dh1.ptr(), dact.ptr(), acts_.h1.ptr(), dact.numel(),
                  cfg_.mlp == MlpKind::gelu_tanh);
    w1_.backward(dxn, dh1.ptr(), acts_.xn2.ptr(), N);
  }
}

void Block::finish(const float* x, float* mid, float* y, int N) {
  const int64_t n = int64_t(N) * D_;
  for (int64_t i = 0; i < n; ++i) mid[i] += x[i];
  if (cfg_.mlp == MlpKind::none) {
    std::memcpy(y, mid, sizeof(float) * n);
    return;
  }
  // Parallel residual: the MLP reads the block input, not the attention output.
  const float* mlp_in = cfg_.parallel_residual ? x : mid;
  acts_.xn2.resize({N, D_});
  mlp_norm_.forward(acts_.xn2.ptr(), mlp_in, N);
  acts_.tmp.resize({N, D_});
  mlp_forward(acts_.xn2.ptr(), acts_.tmp.ptr(), N);
  for (int64_t i = 0; i < n; ++i) y[i] = mid[i] + acts_.tmp.data[size_t(i)];
}

void Block::residual_tail(float* x, const float* heads, int B, int T, Acts& a) {
  const int N = B * T, rows = std::min(N, kTailRows);
  const bool mlp = cfg_.mlp != MlpKind::none;
  a.lin.resize({rows, H_ * Dh_});
  a.out_rows.resize({rows, D_});
  if (mlp) a.xn_rows.resize({rows, D_});
  for (int r0 = 0; r0 < N; r0 += rows) {
    const int n = std::min(rows, N - r0);
    const int64_t m = int64_t(n) * D_;
    float* xr = x + int64_t(r0) * D_;
    float* out = a.out_rows.ptr();
    merge_rows(a.lin.ptr(), heads, T, H_, Dh_, r0, n);
    wo_.forward(out, a.lin.ptr(), n);
    // Parallel residual: the MLP reads the block input, so normalize before adding attention.
    if (mlp && cfg_.parallel_residual) mlp_norm_.forward(a.xn_rows.ptr(), xr, n);
    for (int64_t i = 0; i < m; ++i) xr[i] += out[i];
    if (!mlp) continue;
    if (!cfg_.parallel_residual) mlp_norm_.forward(a.xn_rows.ptr(), xr, n);
    mlp_rows(a, a.xn_rows.ptr(), out, n);
    for (int64_t i = 0; i < m; ++i) xr[i] += out[i];
  }
}

void Block::forward(const float* x, float* y, int B, int T,
                    const std::vector<ForwardObserver*>& observers) {
  keep_ = true;
  B_ = B;
  T_ = T;
  Acts& a = acts_;
  const int N = B * T;
  a.x.resize({N, D_});
  std::memcpy(a.x.ptr(), x, sizeof(float) * a.x.numel());
  a.xn1.resize({N, D_});
  attn_norm_.forward(a.xn1.ptr(), x, N);
  project_qkv(a, a.xn1.ptr(), B, T, H_);  // kv heads repeated to H: variants never see GQA
  attend(a, B, T, a.xn1.ptr(), observers);
  a.mid.resize({N, D_});
  output_projection(a.heads.ptr(), a.mid.ptr());
  finish(x, a.mid.ptr(), y, N);
}

void Block::infer(float* x, int B, int T, const std::vector<ForwardObserver*>& observers, Acts& a) {
  keep_ = false;
  acts_ = Acts();  // an inference forward keeps nothing here
  const int N = B * T;
  // The normalized input is a whole [N, D] buffer only when someone reads it after the
  // projections; otherwise it exists a chunk of rows at a time.
  bool keep_xn = attn_->reads_input();
  for (ForwardObserver* o : observers) keep_xn = keep_xn || o->needs_block_input();
  if (keep_xn) {
    a.xn1.resize({N, D_});
    attn_norm_.forward(a.xn1.ptr(), x, N);
    project_qkv(a, a.xn1.ptr(), B, T, H_);
  } else {
    a.xn1 = Tensor();
    project_qkv(a, x, B, T, H_, true);
  }
  attend(a, B, T, keep_xn ? a.xn1.ptr() : nullptr, observers);
  residual_tail(x, a.heads.ptr(), B, T, a);
}

void Block::forward_cached(float* x, int B, int n, int first, KVCacheLayer& kv,
                           const KeySelector* select, Acts& a) {
  keep_ = false;  // the norms' statistics no longer belong to a training forward
  acts_ = Acts();
  const int N = B * n, T = first + n, cap = kv.capacity;
  a.xn1.resize({N, D_});
  attn_norm_.forward(a.xn1.ptr(), x, N);
  project_qkv(a, a.xn1.ptr(), B, n, Hkv_);
  rope_qk(a, B, n, Hkv_, first);
  for (int b = 0; b < B; ++b)
    for (int g = 0; g < Hkv_; ++g) {
      const int bg = b * Hkv_ + g, row = kv.next_row(bg, first);
      if (row + n > kv.head_rows(bg, Dh_))
        throw Error("cached decoding: the KV cache has no room for the new keys");
      const int64_t src = int64_t(bg) * n * Dh_;
      const int64_t dst = kv.head_start(bg, Dh_) + int64_t(row) * Dh_;
      std::memcpy(kv.k.data() + dst, a.k.ptr() + src, sizeof(float) * n * Dh_);
      std::memcpy(kv.v.data() + dst, a.v.ptr() + src, sizeof(float) * n * Dh_);
      if (!kv.positions.empty())
        for (int i = 0; i < n; ++i) kv.positions[size_t(bg)].push_back(first + i);
    }
  CachedAttnInputs in;
  in.B = B;
  in.H = H_;
  in.Hkv = Hkv_;
  in.Dh = Dh_;
  in.T = T;
  in.first = first;
  in.capacity = cap;
  in.max_positions = kv.max_positions;
  in.q = a.q.ptr();
  in.k = kv.k.data();
  in.v = kv.v.data();
  in.x = a.xn1.ptr();
  in.state = &kv.state;
  in.select = select;
  in.positions = kv.positions.empty() ? nullptr : &kv.positions;
  in.head_start = kv.start.empty() ? nullptr : kv.start.data();
  a.heads.resize({B, H_, n, Dh_});
  attn_->forward_cached(in, a.heads.ptr());
  residual_tail(x, a.heads.ptr(), B, n, a);
}

void Block::backward(const float* dy, float* dx) {
  if (!keep_) throw Error("backward after an inference-only forward (keep_activations = false)");
  const int N = B_ * T_;
  const bool has_mlp = cfg_.mlp != MlpKind::none;
  Tensor dxn2({N, D_}), dmlp_in({N, D_});
  if (has_mlp) {
    mlp_backward(dy, dxn2.ptr());
    const float* mlp_in = cfg_.parallel_residual ? acts_.x.ptr() : acts_.mid.ptr();
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
  attn_norm_.backward(dnorm.ptr(), dxn1.ptr(), acts_.x.ptr(), N);
  for (int64_t i = 0; i < dmid.numel(); ++i)
    dx[i] = dmid.data[i] + dnorm.data[i] + (cfg_.parallel_residual ? dmlp_in.data[i] : 0.0f);
}

}  // namespace attnlab
