// Training a DeviceTransformer: forward with every activation kept, backward through each
// block in reverse (the llm.c order), AdamW per parameter tensor. Mirrors core/model/block.cpp.
#include <cmath>

#include "core/cuda/attention.h"
#include "core/cuda/check.h"
#include "core/cuda/device_activations.h"
#include "core/cuda/device_model.h"
#include "core/cuda/ops.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {


DeviceTransformer::~DeviceTransformer() = default;

float* DeviceTransformer::maybe_grad(const std::string& name) {
  if (!weights_.count(name)) return nullptr;
  auto it = grads_.find(name);
  if (it == grads_.end()) {
    it = grads_.emplace(name, DeviceBuffer<float>(weights_.at(name).size())).first;
    it->second.zero();
  }
  return it->second.get();
}

float* DeviceTransformer::grad(const std::string& name) {
  float* g = maybe_grad(name);
  if (!g) throw Error("DeviceTransformer: no parameter '" + name + "' to take a gradient of");
  return g;
}

void DeviceTransformer::zero_grad() {
  for (auto& [name, g] : grads_) g.zero();
}

void DeviceTransformer::norm_backward(const float* dy, const float* x, const std::string& prefix, const float* mean,
                                      const float* rstd, int64_t N, float* dx) {
  const int D = cfg_.d_model;
  if (cfg_.norm == NormKind::layernorm) {
    float* db = maybe_grad(prefix + ".bias");
    if (!db) {
      if (sink_.size() != D) sink_ = DeviceBuffer<float>(D);
      db = sink_.get();
    }
    layernorm_backward(dy, x, w(prefix + ".weight"), mean, rstd, N, D, dx, grad(prefix + ".weight"), db);
  } else {
    rmsnorm_backward(dy, x, w(prefix + ".weight"), rstd, N, D, dx, grad(prefix + ".weight"));
  }
}

float DeviceTransformer::forward_loss(const Batch& batch) {
  const int B = batch.B, T = batch.T;
  const int64_t N = int64_t(B) * T;
  if (B <= 0 || T <= 0 || int64_t(batch.tokens.size()) != N || int64_t(batch.targets.size()) != N ||
      int64_t(batch.mask.size()) != N)
    throw Error("DeviceTransformer::forward_loss: batch tokens/targets/mask must all be B*T");
  if (batch.in_dim) throw Error("the CUDA backend trains token models only (this batch has continuous features)");
  if (T > cfg_.context)
    throw Error("DeviceTransformer::forward_loss: T=" + std::to_string(T) + " exceeds the context " +
                std::to_string(cfg_.context));
  std::vector<int> tgt(size_t(N), -1);
  float scored = 0;
  for (int64_t i = 0; i < N; ++i) {
    const float m = batch.mask[size_t(i)];
    if (m != 0.0f && m != 1.0f)
      throw Error("the CUDA backend needs 0/1 loss masks (position " + std::to_string(i) + " has " +
                  std::to_string(m) + ")");
    const int32_t tok = batch.tokens[size_t(i)], y = batch.targets[size_t(i)];
    if (tok < 0 || tok >= cfg_.vocab_size) throw Error("token " + std::to_string(tok) + " out of range");
    if (m == 1.0f) {
      if (y < 0 || y >= cfg_.vocab_size) throw Error("target " + std::to_string(y) + " out of range");
      tgt[size_t(i)] = y;
      scored += 1;
    }
  }
  if (scored == 0) throw Error("DeviceTransformer::forward_loss: the loss mask is all zero");

  const int D = cfg_.d_model, H = cfg_.n_heads, Hkv = cfg_.n_kv_heads, Dh = cfg_.head_dim(), F = cfg_.d_ff;
  const int V = cfg_.vocab_size;
  if (!act_ || act_->B != B || act_->T != T) {
    act_ = std::make_unique<Activations>();
    act_->B = B, act_->T = T;
    act_->layers.resize(size_t(cfg_.n_layers));
    for (auto& L : act_->layers) {
      for (auto* b : {&L.x_in, &L.xn1, &L.x_mid, &L.xn2}) *b = DeviceBuffer<float>(N * D);
      for (auto* b : {&L.mean1, &L.rstd1, &L.mean2, &L.rstd2}) *b = DeviceBuffer<float>(N);
      L.q = DeviceBuffer<float>(N * H * Dh), L.heads = DeviceBuffer<float>(N * H * Dh), L.rows = DeviceBuffer<float>(N * H * Dh);
      L.k = DeviceBuffer<float>(N * Hkv * Dh), L.v = DeviceBuffer<float>(N * Hkv * Dh);
      L.lse = DeviceBuffer<float>(N * H);
      L.h1 = DeviceBuffer<float>(N * F), L.act = DeviceBuffer<float>(N * F);
      if (cfg_.mlp == MlpKind::swiglu) L.h3 = DeviceBuffer<float>(N * F);
    }
    act_->x_out = DeviceBuffer<float>(N * D), act_->xnf = DeviceBuffer<float>(N * D);
    act_->meanf = DeviceBuffer<float>(N), act_->rstdf = DeviceBuffer<float>(N);
    act_->logits = DeviceBuffer<float>(N * V), act_->losses = DeviceBuffer<float>(N);
    act_->tokens = DeviceBuffer<int>(N), act_->targets = DeviceBuffer<int>(N);
    Activations& S = *act_;
    S.tmp_rows = DeviceBuffer<float>(N * std::max(H, Hkv) * Dh);
    for (auto* b : {&S.attn_out, &S.mlp_out, &S.dx, &S.dxn, &S.tmp, &S.tmp2, &S.dxvar}) *b = DeviceBuffer<float>(N * D);
    S.dact = DeviceBuffer<float>(N * F);
    if (cfg_.mlp == MlpKind::swiglu) S.dup = DeviceBuffer<float>(N * F);
    for (auto* b : {&S.drows, &S.dheads, &S.dq}) *b = DeviceBuffer<float>(N * H * Dh);
    for (auto* b : {&S.dk, &S.dv, &S.dkrows}) *b = DeviceBuffer<float>(N * Hkv * Dh);
    S.delta = DeviceBuffer<float>(N * H);
  }
  Activations& A = *act_;
  A.tokens.upload(std::vector<int>(batch.tokens.begin(), batch.tokens.end()));
  A.targets.upload(tgt);
  A.scored = scored;
  auto linear = [&](const std::string& name, const float* in, int n_in, int n_out, float* out) {
    linear_forward(*blas_, in, w(name + ".weight"), maybe(name + ".bias"), N, n_in, n_out, out);
  };
  auto normf = [&](const float* x, const std::string& prefix, float* y, float* mean, float* rstd) {
    if (cfg_.norm == NormKind::layernorm) {
      const float* b = maybe(prefix + ".bias");
      layernorm_forward(x, w(prefix + ".weight"), b ? b : zeros_.get(), N, D, cfg_.norm_eps, y, mean, rstd);
    } else {
      rmsnorm_forward(x, w(prefix + ".weight"), N, D, cfg_.norm_eps, y, rstd);
    }
  };
  DeviceBuffer<float>&tmp_rows = A.tmp_rows, &attn_out = A.attn_out, &mlp_out = A.mlp_out;
  embedding_forward(A.tokens.get(), w("tok_emb.weight"),
                    cfg_.pos == PosEncoding::learned ? w("pos_emb.weight") : nullptr, B, T, D,
                    A.layers[0].x_in.get());
  const bool inter = cfg_.rope_style == RopeStyle::interleaved;
  for (int l = 0; l < cfg_.n_layers; ++l) {
    auto& L = A.layers[size_t(l)];
    const std::string p = "layers." + std::to_string(l) + ".";
    normf(L.x_in.get(), p + "attn_norm", L.xn1.get(), L.mean1.get(), L.rstd1.get());
    linear(p + "attn.wq", L.xn1.get(), D, H * Dh, tmp_rows.get());
    merge_heads_backward(tmp_rows.get(), B, H, T, Dh, L.q.get());
    linear(p + "attn.wk", L.xn1.get(), D, Hkv * Dh, tmp_rows.get());
    merge_heads_backward(tmp_rows.get(), B, Hkv, T, Dh, L.k.get());
    linear(p + "attn.wv", L.xn1.get(), D, Hkv * Dh, tmp_rows.get());
    merge_heads_backward(tmp_rows.get(), B, Hkv, T, Dh, L.v.get());
    if (cfg_.pos == PosEncoding::rope) {
      rope_apply(L.q.get(), B, H, T, Dh, cfg_.rotary_dims(), cfg_.rope_theta, inter, false);
      rope_apply(L.k.get(), B, Hkv, T, Dh, cfg_.rotary_dims(), cfg_.rope_theta, inter, false);
    }
    const AttnDims d = attn_dims(l, B, T);
    if (host_attn_[size_t(l)])
      host_attention_forward(l, B, T, L.q.get(), L.k.get(), L.v.get(), L.xn1.get(), L.heads.get(), nullptr, nullptr);
    else
      flash_attention_forward(d, L.q.get(), L.k.get(), L.v.get(), L.heads.get(), L.lse.get());
    merge_heads(L.heads.get(), B, H, T, Dh, L.rows.get());
    linear(p + "attn.wo", L.rows.get(), H * Dh, D, attn_out.get());
    const float* mlp_src = L.x_in.get();
    if (!cfg_.parallel_residual) {
      add(L.x_in.get(), attn_out.get(), N * D, L.x_mid.get());
      mlp_src = L.x_mid.get();
    }
    normf(mlp_src, p + "mlp_norm", L.xn2.get(), L.mean2.get(), L.rstd2.get());
    linear(p + "mlp.w1", L.xn2.get(), D, F, L.h1.get());
    if (cfg_.mlp == MlpKind::swiglu) {
      linear(p + "mlp.w3", L.xn2.get(), D, F, L.h3.get());
      swiglu_forward(L.h1.get(), L.h3.get(), N * F, L.act.get());
    } else {
      gelu_forward(L.h1.get(), N * F, cfg_.mlp == MlpKind::gelu_tanh, L.act.get());
    }
    linear(p + "mlp.w2", L.act.get(), F, D, mlp_out.get());
    float* next = l + 1 < cfg_.n_layers ? A.layers[size_t(l + 1)].x_in.get() : A.x_out.get();
    if (cfg_.parallel_residual) {
      add(L.x_in.get(), attn_out.get(), N * D, next);
      add_inplace(next, mlp_out.get(), N * D);
    } else {
      add(L.x_mid.get(), mlp_out.get(), N * D, next);
    }
  }
  normf(A.x_out.get(), "final_norm", A.xnf.get(), A.meanf.get(), A.rstdf.get());
  const float* head = cfg_.tied_embeddings ? w("tok_emb.weight") : w("lm_head.weight");
  gemm(*blas_, false, true, int(N), V, D, 1.0f, A.xnf.get(), head, 0.0f, A.logits.get());
  // Loss and dlogits in one pass; logits are not needed after this, so dlogits overwrite them.
  softmax_cross_entropy(A.logits.get(), A.targets.get(), N, V, 1.0f / scored, A.losses.get(), A.logits.get());
  const std::vector<float> losses = A.losses.to_host();
  double sum = 0;
  for (float x : losses) sum += x;
  A.ready = true;
  return float(sum / scored);
}

void DeviceTransformer::backward() {
  if (!act_ || !act_->ready) throw Error("DeviceTransformer::backward needs a forward_loss first");
  Activations& A = *act_;
  A.ready = false;
  const int B = A.B, T = A.T, D = cfg_.d_model, H = cfg_.n_heads, Hkv = cfg_.n_kv_heads, Dh = cfg_.head_dim();
  const int F = cfg_.d_ff, V = cfg_.vocab_size;
  const int64_t N = int64_t(B) * T;
  DeviceBuffer<float>&dx = A.dx, &dxn = A.dxn, &tmp = A.tmp, &tmp2 = A.tmp2, &dact = A.dact, &dup = A.dup,
                     &drows = A.drows, &dheads = A.dheads, &dq = A.dq, &dk = A.dk, &dv = A.dv, &delta = A.delta,
                     &dkrows = A.dkrows, &dxvar = A.dxvar;
  auto lin_back = [&](const std::string& name, const float* dy, const float* x, int n_in, int n_out, float* dxo) {
    linear_backward(*blas_, dy, x, w(name + ".weight"), N, n_in, n_out, dxo, grad(name + ".weight"),
                    maybe_grad(name + ".bias"));
  };
  const std::string head = cfg_.tied_embeddings ? "tok_emb" : "lm_head";
  linear_backward(*blas_, A.logits.get(), A.xnf.get(), w(head + ".weight"), N, D, V, dxn.get(), grad(head + ".weight"),
                  nullptr);
  norm_backward(dxn.get(), A.x_out.get(), "final_norm", A.meanf.get(), A.rstdf.get(), N, dx.get());
  const bool inter = cfg_.rope_style == RopeStyle::interleaved;
  for (int l = cfg_.n_layers - 1; l >= 0; --l) {
    auto& L = A.layers[size_t(l)];
    const std::string p = "layers." + std::to_string(l) + ".";
    const float* mlp_src = cfg_.parallel_residual ? L.x_in.get() : L.x_mid.get();
    // MLP branch (its output was added to the residual, so its gradient is dx).
    lin_back(p + "mlp.w2", dx.get(), L.act.get(), F, D, dact.get());
    if (cfg_.mlp == MlpKind::swiglu) {
      swiglu_backward(dact.get(), L.h1.get(), L.h3.get(), N * F, dact.get(), dup.get());
      lin_back(p + "mlp.w1", dact.get(), L.xn2.get(), D, F, dxn.get());
      lin_back(p + "mlp.w3", dup.get(), L.xn2.get(), D, F, tmp.get());
      add_inplace(dxn.get(), tmp.get(), N * D);
    } else {
      gelu_backward(dact.get(), L.h1.get(), N * F, cfg_.mlp == MlpKind::gelu_tanh, dact.get());
      lin_back(p + "mlp.w1", dact.get(), L.xn2.get(), D, F, dxn.get());
    }
    norm_backward(dxn.get(), mlp_src, p + "mlp_norm", L.mean2.get(), L.rstd2.get(), N, tmp2.get());
    // Sequential: dx becomes d(x_mid) before the attention branch; parallel: both branches
    // read d(x_out) and their input gradients are added at the end.
    if (!cfg_.parallel_residual) add_inplace(dx.get(), tmp2.get(), N * D);
    // Attention branch.
    lin_back(p + "attn.wo", dx.get(), L.rows.get(), H * Dh, D, drows.get());
    merge_heads_backward(drows.get(), B, H, T, Dh, dheads.get());
    const AttnDims d = attn_dims(l, B, T);
    HostAttention* host = host_attn_[size_t(l)].get();
    if (host)  // also writes the variant's gradient with respect to x (= xn1) into dxvar
      host_attention_backward(l, dheads.get(), dq.get(), dk.get(), dv.get(), dxvar.get());
    else
      flash_attention_backward(d, L.q.get(), L.k.get(), L.v.get(), L.heads.get(), dheads.get(), L.lse.get(),
                               delta.get(), dq.get(), dk.get(), dv.get());
    if (cfg_.pos == PosEncoding::rope) {
      rope_apply(dq.get(), B, H, T, Dh, cfg_.rotary_dims(), cfg_.rope_theta, inter, true);
      rope_apply(dk.get(), B, Hkv, T, Dh, cfg_.rotary_dims(), cfg_.rope_theta, inter, true);
    }
    merge_heads(dq.get(), B, H, T, Dh, drows.get());
    lin_back(p + "attn.wq", drows.get(), L.xn1.get(), D, H * Dh, dxn.get());
    merge_heads(dk.get(), B, Hkv, T, Dh, dkrows.get());
    lin_back(p + "attn.wk", dkrows.get(), L.xn1.get(), D, Hkv * Dh, tmp.get());
    add_inplace(dxn.get(), tmp.get(), N * D);
    merge_heads(dv.get(), B, Hkv, T, Dh, dkrows.get());
    lin_back(p + "attn.wv", dkrows.get(), L.xn1.get(), D, Hkv * Dh, tmp.get());
    add_inplace(dxn.get(), tmp.get(), N * D);
    if (host) add_inplace(dxn.get(), dxvar.get(), N * D);  // variants that read x (gates)
    norm_backward(dxn.get(), L.x_in.get(), p + "attn_norm", L.mean1.get(), L.rstd1.get(), N, tmp.get());
    add_inplace(dx.get(), tmp.get(), N * D);
    if (cfg_.parallel_residual) add_inplace(dx.get(), tmp2.get(), N * D);
  }
  embedding_backward(A.tokens.get(), dx.get(), B, T, D, grad("tok_emb.weight"),
                     cfg_.pos == PosEncoding::learned ? grad("pos_emb.weight") : nullptr);
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
}

float DeviceTransformer::clip_grad_norm(float max_norm) {
  DeviceBuffer<float> acc(std::vector<float>{0.0f});
  for (auto& [name, g] : grads_) sum_squares_accumulate(g.get(), g.size(), acc.get());
  const float norm = std::sqrt(acc.to_host()[0]);
  if (max_norm > 0 && norm > max_norm) {
    const float s = max_norm / (norm + 1e-6f);
    for (auto& [name, g] : grads_) scale_inplace(g.get(), g.size(), s);
  }
  return norm;
}

void DeviceTransformer::adamw_step(float lr, const AdamWConfig& cfg, const std::map<std::string, bool>& decay) {
  ++adam_t_;
  for (auto& [name, p] : weights_) {
    float* g = grad(name);  // a parameter no backward reached yet has a zero gradient
    auto [mit, fresh] = adam_m_.try_emplace(name, p.size());
    if (fresh) {
      mit->second.zero();
      adam_v_.emplace(name, DeviceBuffer<float>(p.size())).first->second.zero();
    }
    auto dit = decay.find(name);
    const bool dec = dit != decay.end() && dit->second;
    cuda::adamw_step(p.get(), g, mit->second.get(), adam_v_.at(name).get(), p.size(), lr, cfg.beta1, cfg.beta2, cfg.eps,
                     dec ? cfg.weight_decay : 0.0f, adam_t_);
  }
}

std::map<std::string, Tensor> DeviceTransformer::weights() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, b] : weights_) {
    Tensor t(shapes_.at(name));
    b.download(t.ptr(), t.numel());
    out.emplace(name, std::move(t));
  }
  return out;
}

std::map<std::string, Tensor> DeviceTransformer::grads() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, b] : grads_) {
    Tensor t(shapes_.at(name));
    b.download(t.ptr(), t.numel());
    out.emplace(name, std::move(t));
  }
  return out;
}

std::map<std::string, Tensor> DeviceTransformer::optimizer_state() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, w] : weights_) {
    for (const auto* which : {&adam_m_, &adam_v_}) {
      Tensor t(shapes_.at(name));  // zeros before the first step
      const auto it = which->find(name);
      if (it != which->end()) it->second.download(t.ptr(), t.numel());
      out.emplace((which == &adam_m_ ? "adam.m." : "adam.v.") + name, std::move(t));
    }
  }
  return out;
}

void DeviceTransformer::load_optimizer_state(const std::map<std::string, Tensor>& state, int64_t t) {
  if (t < 0) throw Error("load_optimizer_state: negative step " + std::to_string(t));
  for (const auto& [name, w] : weights_)
    for (auto* which : {&adam_m_, &adam_v_}) {
      const std::string key = (which == &adam_m_ ? "adam.m." : "adam.v.") + name;
      const auto it = state.find(key);
      if (it == state.end()) throw Error("load_optimizer_state: '" + key + "' is missing");
      if (it->second.numel() != w.size())
        throw Error("load_optimizer_state: '" + key + "' has " + std::to_string(it->second.numel()) +
                    " values, expected " + std::to_string(w.size()));
      (*which).insert_or_assign(name, DeviceBuffer<float>(it->second.data));
    }
  adam_t_ = t;
}

}  // namespace attnlab::cuda
