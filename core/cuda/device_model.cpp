#include "core/cuda/device_model.h"

#include "core/cuda/device_activations.h"

#include <cuda_runtime.h>

#include <algorithm>

#include "core/cuda/attention.h"
#include "core/cuda/check.h"
#include "core/cuda/ops.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

DeviceTransformer::DeviceTransformer(const ModelConfig& cfg, const std::map<std::string, Tensor>& weights,
                                     Precision precision)
    : cfg_(cfg) {
  cfg_.validate();
  if (cfg_.input_dim > 0)  // else the first complaint would be a missing tok_emb.weight
    throw Error("the CUDA backend runs token models only (this model reads continuous inputs); use --device cpu");
  if (cfg_.mlp == MlpKind::none)
    throw Error("the CUDA backend runs blocks with an MLP only (this model is attention-only, mlp = none); use --device cpu");
  if (cfg_.d_model != cfg_.n_heads * cfg_.head_dim())
    throw Error("the CUDA backend needs d_model == n_heads * head_dim");
  // A weight the kernels would not read (a bias under bias=false, a stray tensor) means the
  // config does not describe these weights: the CPU's load_weights refuses them too.
  const std::vector<std::string> known = known_weight_names(cfg_);
  for (const auto& [name, t] : weights)
    if (name.find(".attn.variant.") == std::string::npos &&
        std::find(known.begin(), known.end(), name) == known.end())
      throw Error("DeviceTransformer: unexpected weight '" + name + "' for this model config");
  for (const auto& [name, t] : weights) {
    weights_.emplace(name, DeviceBuffer<float>(t.data));
    shapes_[name] = t.shape;
  }
  for (int l = 0; l < cfg_.n_layers; ++l) {
    const std::string& spec = cfg_.attention_for_layer(l);
    GpuAttentionSpec g;
    std::unique_ptr<HostAttention> host;
    try {
      g = gpu_attention_spec(spec);
    } catch (const Error&) {
      // No kernel for this variant: run its CPU implementation (make_attention reports a bad spec).
      AttnBuildContext ctx;
      ctx.n_heads = cfg_.n_heads, ctx.head_dim = cfg_.head_dim(), ctx.d_model = cfg_.d_model;
      ctx.layer = l, ctx.n_layers = cfg_.n_layers, ctx.context = cfg_.context;
      host = std::make_unique<HostAttention>();
      host->attn = make_attention(spec, ctx);
      for (Param p : host->attn->params()) {
        p.name = "layers." + std::to_string(l) + ".attn.variant." + p.name;
        const auto it = weights.find(p.name);
        if (it == weights.end()) throw Error("DeviceTransformer: weight '" + p.name + "' is missing");
        if (it->second.numel() != p.value->numel())
          throw Error("DeviceTransformer: weight '" + p.name + "' has " + std::to_string(it->second.numel()) +
                      " values, the variant expects " + std::to_string(p.value->numel()));
        host->params.push_back(p);
      }
    }
    attn_.push_back(g);
    host_attn_.push_back(std::move(host));
  }
  zeros_ = DeviceBuffer<float>(std::vector<float>(size_t(cfg_.d_model), 0.0f));
  blas_ = std::make_unique<Blas>(cudaStream_t(0), precision);
  // Fail now, naming the tensor, rather than mid-forward.
  for (const std::string& name : required_weight_names(cfg_)) w(name);
}


AttnDims DeviceTransformer::attn_dims(int layer, int B, int T) const {
  AttnDims d;
  d.B = B, d.Hq = cfg_.n_heads, d.Hkv = cfg_.n_kv_heads, d.T = T, d.Dh = cfg_.head_dim();
  const GpuAttentionSpec& g = attn_[size_t(layer)];
  d.window = g.window, d.sinks = g.sinks, d.alibi = g.alibi;
  return d;
}

const float* DeviceTransformer::maybe(const std::string& name) const {
  auto it = weights_.find(name);
  return it == weights_.end() ? nullptr : it->second.get();
}

const float* DeviceTransformer::w(const std::string& name) const {
  const float* p = maybe(name);
  if (!p) throw Error("DeviceTransformer: weight '" + name + "' is missing");
  return p;
}

void DeviceTransformer::norm(const float* x, const std::string& prefix, int64_t N, float* y) {
  const int D = cfg_.d_model;
  if (cfg_.norm == NormKind::layernorm) {
    const float* b = maybe(prefix + ".bias");
    layernorm_forward(x, w(prefix + ".weight"), b ? b : zeros_.get(), N, D, cfg_.norm_eps, y, mean_.get(),
                      rstd_.get());
  } else {
    rmsnorm_forward(x, w(prefix + ".weight"), N, D, cfg_.norm_eps, y, rstd_.get());
  }
}

void DeviceTransformer::forward(const int32_t* tokens, int B, int T, Tensor* logits, std::vector<StreamStats>* stats) {
  forward_impl(tokens, B, T, logits, stats, nullptr);
}

std::vector<float> DeviceTransformer::attention_tile(const int32_t* tokens, int B, int T, int layer,
                                                     const TileRequest& r) {
  if (layer < 0 || layer >= cfg_.n_layers)
    throw Error("attention tile: layer " + std::to_string(layer) + " outside [0," + std::to_string(cfg_.n_layers) + ")");
  validate(r, attn_dims(layer, B, T));
  std::vector<float> out;
  const TileAsk ask{layer, r, &out};
  forward_impl(tokens, B, T, nullptr, nullptr, &ask);
  return out;
}

void DeviceTransformer::forward_impl(const int32_t* tokens, int B, int T, Tensor* logits,
                                     std::vector<StreamStats>* stats, const TileAsk* tile) {
  if (B <= 0 || T <= 0) throw Error("DeviceTransformer::forward: B and T must be positive");
  // As on the CPU (the reference), for every position encoding: variants on the host path are
  // built for the context, and results past it would have no CPU counterpart to check against.
  if (T > cfg_.context)
    throw Error("DeviceTransformer::forward: a sequence of " + std::to_string(T) +
                " tokens is longer than the model's context (" + std::to_string(cfg_.context) + ")");
  for (int64_t i = 0; i < int64_t(B) * T; ++i)
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab_size)
      throw Error("DeviceTransformer::forward: token " + std::to_string(tokens[i]) + " at " + std::to_string(i) +
                  " is outside [0, " + std::to_string(cfg_.vocab_size) + ")");
  const int D = cfg_.d_model, H = cfg_.n_heads, Hkv = cfg_.n_kv_heads, Dh = cfg_.head_dim(), F = cfg_.d_ff;
  const int64_t N = int64_t(B) * T;
  DeviceBuffer<int> tok(std::vector<int>(tokens, tokens + N));
  DeviceBuffer<float> x(N * D), xn(N * D), q(N * H * Dh), k(N * Hkv * Dh), v(N * Hkv * Dh), rows(N * H * Dh),
      heads(N * H * Dh), lse(N * H), attn_out(N * D), h1(N * F), h3(cfg_.mlp == MlpKind::swiglu ? N * F : 0),
      mlp_out(N * D), xn2(cfg_.parallel_residual ? N * D : 0);
  mean_ = DeviceBuffer<float>(N);
  rstd_ = DeviceBuffer<float>(N);
  const int64_t nstat = int64_t(B) * H * T;
  DeviceBuffer<float> sb[8];
  if (stats) {
    stats->assign(size_t(cfg_.n_layers), StreamStats{});
    for (auto& b : sb) b = DeviceBuffer<float>(nstat);
    sb[6] = DeviceBuffer<float>(nstat * kTopKBudgets);
  }
  embedding_forward(tok.get(), w("tok_emb.weight"), cfg_.pos == PosEncoding::learned ? w("pos_emb.weight") : nullptr,
                    B, T, D, x.get());
  auto linear = [&](const std::string& name, const float* in, int n_in, int n_out, float* out) {
    linear_forward(*blas_, in, w(name + ".weight"), maybe(name + ".bias"), N, n_in, n_out, out);
  };
  for (int l = 0; l < cfg_.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    // Attention branch.
    norm(x.get(), p + "attn_norm", N, xn.get());
    linear(p + "attn.wq", xn.get(), D, H * Dh, rows.get());
    merge_heads_backward(rows.get(), B, H, T, Dh, q.get());  // [B,T,H*Dh] -> [B,H,T,Dh]
    linear(p + "attn.wk", xn.get(), D, Hkv * Dh, rows.get());
    merge_heads_backward(rows.get(), B, Hkv, T, Dh, k.get());
    linear(p + "attn.wv", xn.get(), D, Hkv * Dh, rows.get());
    merge_heads_backward(rows.get(), B, Hkv, T, Dh, v.get());
    if (cfg_.pos == PosEncoding::rope) {
      const bool inter = cfg_.rope_style == RopeStyle::interleaved;
      rope_apply(q.get(), B, H, T, Dh, cfg_.rotary_dims(), cfg_.rope_theta, inter, false);
      rope_apply(k.get(), B, Hkv, T, Dh, cfg_.rotary_dims(), cfg_.rope_theta, inter, false);
    }
    const AttnDims d = attn_dims(l, B, T);
    if (tile && tile->layer == l) {
      const TileRequest& r = tile->req;
      const int w = r.j1 - r.j0;
      tile->out->assign(size_t(r.t1 - r.t0) * w, 0.0f);
      if (host_attn_[size_t(l)]) {  // the variant's own pattern rows, cut to the tile
        host_attention_forward(l, B, T, q.get(), k.get(), v.get(), xn.get(), heads.get(), nullptr, nullptr);
        HostAttention& ha = *host_attn_[size_t(l)];
        ha.attn->pattern(ha.inputs(), r.b, r.h, [&](int t, const float* row) {
          if (t < r.t0 || t >= r.t1) return;
          for (int j = r.j0; j < r.j1 && j <= t; ++j) (*tile->out)[size_t(t - r.t0) * w + (j - r.j0)] = row[j];
        });
      } else {
        DeviceBuffer<float> dev(int64_t(tile->out->size()));
        cuda::attention_tile(d, q.get(), k.get(), nullptr, r, dev.get());
        dev.download(tile->out->data(), dev.size());
      }
      return;
    }
    if (host_attn_[size_t(l)]) {
      host_attention_forward(l, B, T, q.get(), k.get(), v.get(), xn.get(), heads.get(),
                             stats ? &(*stats)[size_t(l)] : nullptr, tokens);
    } else {
      flash_attention_forward(d, q.get(), k.get(), v.get(), heads.get(), lse.get());
    }
    if (stats && !host_attn_[size_t(l)]) {
      attention_statistics(d, q.get(), k.get(), lse.get(), tok.get(),
                           {sb[0].get(), sb[1].get(), sb[2].get(), sb[3].get(), sb[4].get(), sb[5].get(), sb[6].get(),
                            sb[7].get()});
      StreamStats& s = (*stats)[size_t(l)];
      s.col_mass = sb[0].to_host(), s.entropy = sb[1].to_host(), s.prev_token = sb[2].to_host();
      s.induction = sb[3].to_host(), s.duplicate = sb[4].to_host(), s.row_max = sb[5].to_host();
      s.topk_mass = sb[6].to_host(), s.cover = sb[7].to_host();
    }
    merge_heads(heads.get(), B, H, T, Dh, rows.get());
    linear(p + "attn.wo", rows.get(), H * Dh, D, attn_out.get());
    // MLP branch: on x (parallel residual) or on x + attention (sequential).
    const float* mlp_in = x.get();
    if (!cfg_.parallel_residual) {
      add_inplace(x.get(), attn_out.get(), N * D);
    }
    norm(mlp_in, p + "mlp_norm", N, cfg_.parallel_residual ? xn2.get() : xn.get());
    const float* m_in = cfg_.parallel_residual ? xn2.get() : xn.get();
    linear(p + "mlp.w1", m_in, D, F, h1.get());
    if (cfg_.mlp == MlpKind::swiglu) {
      linear(p + "mlp.w3", m_in, D, F, h3.get());
      swiglu_forward(h1.get(), h3.get(), N * F, h1.get());
    } else {
      gelu_forward(h1.get(), N * F, cfg_.mlp == MlpKind::gelu_tanh, h1.get());
    }
    linear(p + "mlp.w2", h1.get(), F, D, mlp_out.get());
    if (cfg_.parallel_residual) add_inplace(x.get(), attn_out.get(), N * D);
    add_inplace(x.get(), mlp_out.get(), N * D);
  }
  if (logits) {
    norm(x.get(), "final_norm", N, xn.get());
    const float* head = cfg_.tied_embeddings ? w("tok_emb.weight") : w("lm_head.weight");
    DeviceBuffer<float> lg(N * cfg_.vocab_size);
    gemm(*blas_, false, true, int(N), cfg_.vocab_size, D, 1.0f, xn.get(), head, 0.0f, lg.get());
    *logits = Tensor({B, T, cfg_.vocab_size});
    lg.download(logits->ptr(), logits->numel());
  }
  ATTNLAB_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace attnlab::cuda
