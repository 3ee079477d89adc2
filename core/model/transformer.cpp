#include "core/model/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/layers/cross_entropy.h"
#include "core/layers/linear.h"
#include "core/layers/norm.h"
#include "core/model/block.h"
#include "core/model/kv_cache.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

Transformer::Transformer(const ModelConfig& config)
    : config_(config), infer_ws_(std::make_unique<BlockActs>()) {
  config_.validate();
  const int V = config_.vocab_size, D = config_.d_model;
  if (config_.input_dim > 0) {
    read_in_ = LinearLayer(config_.input_dim, D, true);
    read_out_ = LinearLayer(D, 1, true);
  } else {
    tok_emb_ = Tensor({V, D});
    tok_emb_grad_.shape = {V, D};
  }
  if (config_.pos == PosEncoding::learned) {
    pos_emb_ = Tensor({config_.context, D});
    pos_emb_grad_.shape = {config_.context, D};
  }
  for (int l = 0; l < config_.n_layers; ++l) blocks_.push_back(std::make_unique<Block>(config_, l));
  final_norm_w_ = Tensor({D}, 1.0f);
  final_norm_w_grad_.shape = {D};
  if (config_.norm == NormKind::layernorm) {
    final_norm_b_ = Tensor({D});
    final_norm_b_grad_.shape = {D};
  }
  if (!config_.tied_embeddings && config_.input_dim == 0) {
    lm_head_ = Tensor({V, D});
    lm_head_grad_.shape = {V, D};
  }
}

Transformer::~Transformer() = default;

void Transformer::init_weights(uint64_t seed) {
  Rng rng(seed);
  const float std = 0.02f;
  const float residual_std = std / std::sqrt(2.0f * config_.n_layers);
  for (float& w : tok_emb_.data) w = float(rng.normal() * std);
  for (float& w : pos_emb_.data) w = float(rng.normal() * std);
  for (auto& b : blocks_) b->init(rng, std, residual_std);
  for (float& w : lm_head_.data) w = float(rng.normal() * std);
  if (config_.input_dim > 0) {
    read_in_.init(rng, std);
    read_out_.init(rng, std);
  }
}

std::vector<Param> Transformer::params() {
  std::vector<Param> ps;
  if (config_.input_dim > 0)
    read_in_.append_params(ps, "read_in");
  else
    ps.push_back({"tok_emb.weight", &tok_emb_, &tok_emb_grad_, true});
  if (pos_emb_.numel()) ps.push_back({"pos_emb.weight", &pos_emb_, &pos_emb_grad_, true});
  for (auto& b : blocks_) b->append_params(ps);
  ps.push_back({"final_norm.weight", &final_norm_w_, &final_norm_w_grad_, false});
  if (final_norm_b_.numel())
    ps.push_back({"final_norm.bias", &final_norm_b_, &final_norm_b_grad_, false});
  if (lm_head_.numel()) ps.push_back({"lm_head.weight", &lm_head_, &lm_head_grad_, true});
  if (config_.input_dim > 0) read_out_.append_params(ps, "read_out");
  return ps;
}

int64_t Transformer::num_params() {
  int64_t n = 0;
  for (const Param& p : params()) n += p.value->numel();
  return n;
}

Attention& Transformer::attention(int layer) {
  if (layer < 0 || layer >= int(blocks_.size()))
    throw Error("layer " + std::to_string(layer) + " does not exist (the model has " +
                std::to_string(blocks_.size()) + " layers)");
  return blocks_[size_t(layer)]->attention();
}

std::unique_ptr<Attention> Transformer::swap_attention(int layer, std::unique_ptr<Attention> a) {
  if (!a) throw Error("swap_attention: no attention variant given");
  attention(layer);  // checks the layer exists
  return blocks_[size_t(layer)]->swap_attention(std::move(a));
}

void Transformer::add_observer(ForwardObserver* obs) { observers_.push_back(obs); }

void Transformer::remove_observer(ForwardObserver* obs) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), obs), observers_.end());
}

static void check_length(int B, int T, int context) {
  if (B <= 0 || T <= 0) throw Error("forward: empty batch");
  if (T > context)
    throw Error("sequence of " + std::to_string(T) +
                " tokens is longer than the model's context (" + std::to_string(context) + ")");
}

void Transformer::embed(const int32_t* tokens, int B, int T) {
  if (config_.input_dim > 0)
    throw Error("this model reads continuous inputs (input_dim " +
                std::to_string(config_.input_dim) + "), not tokens");
  check_length(B, T, config_.context);
  const int V = config_.vocab_size, D = config_.d_model, N = B * T;
  for (int i = 0; i < N; ++i)
    if (tokens[i] < 0 || tokens[i] >= V)
      throw Error("token id " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                  " is outside the vocabulary [0, " + std::to_string(V) + ")");
  B_ = B;
  T_ = T;
  tokens_.assign(tokens, tokens + N);
  x0_.resize({N, D});
  for (int n = 0; n < N; ++n)
    std::memcpy(x0_.ptr() + int64_t(n) * D, tok_emb_.ptr() + int64_t(tokens[n]) * D,
                sizeof(float) * D);
}

void Transformer::forward_without_logits(const int32_t* tokens, int B, int T) {
  embed(tokens, B, T);
  run_trunk(false);
}

const Tensor& Transformer::forward(const int32_t* tokens, int B, int T, bool keep_activations) {
  embed(tokens, B, T);
  run_trunk(keep_activations);
  const int V = config_.vocab_size, D = config_.d_model, N = B * T;
  logits_.resize({B, T, V});
  const Tensor& head = config_.tied_embeddings ? tok_emb_ : lm_head_;
  linear_forward(logits_.ptr(), xf_norm_.ptr(), head.ptr(), nullptr, N, D, V);
  return logits_;
}

const Tensor& Transformer::forward_continuous(const float* features, int B, int T,
                                              bool keep_activations) {
  if (config_.input_dim == 0)
    throw Error("this model reads tokens; continuous inputs need a model with input_dim > 0");
  check_length(B, T, config_.context);
  const int D = config_.d_model, N = B * T;
  B_ = B;
  T_ = T;
  features_.assign(features, features + int64_t(N) * config_.input_dim);
  x0_.resize({N, D});
  read_in_.forward(x0_.ptr(), features, N);
  run_trunk(keep_activations);
  logits_.resize({B, T, 1});
  read_out_.forward(logits_.ptr(), xf_norm_.ptr(), N);
  return logits_;
}

void Transformer::run_trunk(bool keep_activations) {
  const int B = B_, T = T_, D = config_.d_model, N = B * T;
  if (pos_emb_.numel())
    for (int n = 0; n < N; ++n) {
      float* row = x0_.ptr() + int64_t(n) * D;
      const float* p = pos_emb_.ptr() + int64_t(n % T) * D;
      for (int d = 0; d < D; ++d) row[d] += p[d];
    }
  // The residual stream is shaped [B, T, D] as observers see it; blocks read it as N rows.
  x0_.shape = {B, T, D};
  for (ForwardObserver* o : observers_) o->on_residual(-1, x0_);
  if (keep_activations) *infer_ws_ = BlockActs();  // training keeps its own per block
  // An inference forward frees the last forward's final stream, its norm and its logits
  // (recomputed at the end): nothing of the previous sequence stays alive through the blocks.
  if (!keep_activations) {
    xf_ = Tensor();
    xf_norm_ = Tensor();
    logits_ = Tensor();
  }
  // Inference hands the embeddings over to the residual stream rather than copying them, and
  // each block updates the stream in place.
  Tensor cur, next;
  if (keep_activations) {
    cur = x0_;
    next.resize({B, T, D});
  } else {
    cur = std::move(x0_);
  }
  for (size_t l = 0; l < blocks_.size(); ++l) {
    if (keep_activations) {
      blocks_[l]->forward(cur.ptr(), next.ptr(), B, T, observers_);
      std::swap(cur, next);
    } else {
      blocks_[l]->infer(cur.ptr(), B, T, observers_, *infer_ws_);
    }
    for (ForwardObserver* o : observers_) o->on_residual(int(l), cur);
  }
  // The inference workspace (q, k, v, head outputs: four T x d buffers) is not kept between
  // forwards: the logits and the observers' reports come after it.
  if (!keep_activations) *infer_ws_ = BlockActs();
  xf_ = std::move(cur);
  final_norm(N);
}

void Transformer::final_norm(int N) {
  const int D = config_.d_model;
  xf_norm_.resize({N, D});
  final_norm_cache_.resize({2, N});
  if (config_.norm == NormKind::layernorm)
    layernorm_forward(xf_norm_.ptr(), final_norm_cache_.ptr(), final_norm_cache_.ptr() + N,
                      xf_.ptr(), final_norm_w_.ptr(), final_norm_b_.ptr(), N, D, config_.norm_eps);
  else
    rmsnorm_forward(xf_norm_.ptr(), final_norm_cache_.ptr() + N, xf_.ptr(), final_norm_w_.ptr(), N,
                    D, config_.norm_eps);
}

bool Transformer::supports_cached_decoding() const {
  if (!observers_.empty() || config_.input_dim > 0) return false;
  for (const auto& b : blocks_)
    if (!b->attention().supports_cached_decoding()) return false;
  return true;
}

const Tensor& Transformer::forward_cached(const int32_t* tokens, int B, int n, KVCache& cache) {
  if (config_.input_dim > 0)
    throw Error("cached decoding: this model reads continuous inputs, not tokens");
  if (!observers_.empty())
    throw Error("cached decoding does not call observers; remove them or use forward()");
  if (cache.n_layers() != config_.n_layers || cache.kv_heads() != config_.n_kv_heads ||
      cache.head_dim() != config_.head_dim())
    throw Error("cached decoding: the KV cache was made for another model shape");
  if (B != cache.batch())
    throw Error("cached decoding: batch of " + std::to_string(B) + " for a cache of batch " +
                std::to_string(cache.batch()));
  if (n < 1) throw Error("cached decoding: no tokens given");
  if (cache.compacted() && cache.selector())
    throw Error("cached decoding: a key selector reads keys by position, which a compacted KV "
                "cache no longer stores; remove it (set_selector({})) after compact()");
  const int first = cache.length(), T = first + n;
  if (T > cache.capacity())
    throw Error("cached decoding: " + std::to_string(first) + " cached + " + std::to_string(n) +
                " new positions pass the " +
                (cache.capacity() == config_.context ? "model's context (" : "cache's capacity (") +
                std::to_string(cache.capacity()) + ")");
  const int V = config_.vocab_size, D = config_.d_model, N = B * n;
  for (int i = 0; i < N; ++i)
    if (tokens[i] < 0 || tokens[i] >= V)
      throw Error("token id " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                  " is outside the vocabulary [0, " + std::to_string(V) + ")");
  // A backward after this would read activations of another forward.
  targets_.clear();
  float_targets_.clear();
  Tensor cur({N, D});
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < n; ++t) {
      float* row = cur.ptr() + (int64_t(b) * n + t) * D;
      std::memcpy(row, tok_emb_.ptr() + int64_t(tokens[b * n + t]) * D, sizeof(float) * D);
      if (pos_emb_.numel()) {
        const float* p = pos_emb_.ptr() + int64_t(first + t) * D;
        for (int d = 0; d < D; ++d) row[d] += p[d];
      }
    }
  for (size_t l = 0; l < blocks_.size(); ++l)
    blocks_[l]->forward_cached(cur.ptr(), B, n, first, cache.layer(int(l)), cache.selector(),
                               *infer_ws_);
  cache.advance(n);
  B_ = B;
  T_ = n;
  xf_ = std::move(cur);
  final_norm(N);
  logits_.resize({B, n, V});
  const Tensor& head = config_.tied_embeddings ? tok_emb_ : lm_head_;
  linear_forward(logits_.ptr(), xf_norm_.ptr(), head.ptr(), nullptr, N, D, V);
  return logits_;
}

float Transformer::forward_loss(const Batch& batch) {
  ensure_grads();
  const int N = batch.B * batch.T;
  if (int(batch.mask.size()) != N)
    throw Error("batch: the mask must hold B*T = " + std::to_string(N) + " entries");
  loss_mask_ = batch.mask;
  token_losses_.resize({batch.B, batch.T});
  if (batch.in_dim > 0) {
    if (batch.in_dim != config_.input_dim)
      throw Error("batch: inputs have " + std::to_string(batch.in_dim) +
                  " features, the model reads " + std::to_string(config_.input_dim));
    if (int64_t(batch.features.size()) != int64_t(N) * batch.in_dim ||
        int(batch.float_targets.size()) != N)
      throw Error("batch: features must hold B*T*in_dim and float_targets B*T entries");
    forward_continuous(batch.features.data(), batch.B, batch.T, true);
    float_targets_ = batch.float_targets;
    targets_.clear();
    return mse_forward();
  }
  if (int(batch.tokens.size()) != N || int(batch.targets.size()) != N)
    throw Error("batch: tokens and targets must each hold B*T = " + std::to_string(N) + " entries");
  forward(batch.tokens.data(), batch.B, batch.T, true);
  dlogits_.resize(logits_.shape);
  targets_ = batch.targets;
  float_targets_.clear();
  return cross_entropy_forward(token_losses_.ptr(), logits_.ptr(), batch.targets.data(),
                               batch.mask.data(), N, config_.vocab_size);
}

// Masked mean squared error of the scalar predictions: sum(mask * (pred - y)^2) / sum(mask).
float Transformer::mse_forward() {
  const int N = B_ * T_;
  double total = 0, sum = 0;
  for (int n = 0; n < N; ++n) {
    double e = double(logits_.data[size_t(n)]) - float_targets_[size_t(n)];
    token_losses_.data[size_t(n)] = loss_mask_[size_t(n)] != 0 ? float(e * e) : 0.0f;
    sum += loss_mask_[size_t(n)] * e * e;
    total += loss_mask_[size_t(n)];
  }
  if (total <= 0) throw Error("regression loss: the loss mask selects no position");
  mask_sum_ = float(total);
  return float(sum / total);
}

void Transformer::backward() {
  if (targets_.empty() && float_targets_.empty())
    throw Error("backward() needs a forward_loss() first");
  const int D = config_.d_model, N = B_ * T_;
  Tensor dxf_norm({N, D}), dx({N, D});
  if (!float_targets_.empty()) {
    Tensor dpred({N, 1});
    for (int n = 0; n < N; ++n)
      dpred.data[size_t(n)] = 2.0f * loss_mask_[size_t(n)] *
                              (logits_.data[size_t(n)] - float_targets_[size_t(n)]) / mask_sum_;
    read_out_.backward(dxf_norm.ptr(), dpred.ptr(), xf_norm_.ptr(), N);
  } else {
    const int V = config_.vocab_size;
    cross_entropy_backward(dlogits_.ptr(), logits_.ptr(), targets_.data(), loss_mask_.data(), N, V);
    const Tensor& head = config_.tied_embeddings ? tok_emb_ : lm_head_;
    Tensor& head_grad = config_.tied_embeddings ? tok_emb_grad_ : lm_head_grad_;
    linear_backward(dxf_norm.ptr(), head_grad.ptr(), nullptr, dlogits_.ptr(), xf_norm_.ptr(),
                    head.ptr(), N, D, V);
  }
  if (config_.norm == NormKind::layernorm)
    layernorm_backward(dx.ptr(), final_norm_w_grad_.ptr(), final_norm_b_grad_.ptr(), dxf_norm.ptr(),
                       xf_.ptr(), final_norm_w_.ptr(), final_norm_cache_.ptr(),
                       final_norm_cache_.ptr() + N, N, D);
  else
    rmsnorm_backward(dx.ptr(), final_norm_w_grad_.ptr(), dxf_norm.ptr(), xf_.ptr(),
                     final_norm_w_.ptr(), final_norm_cache_.ptr() + N, N, D);
  Tensor dprev({N, D});
  for (int l = int(blocks_.size()) - 1; l >= 0; --l) {
    blocks_[size_t(l)]->backward(dx.ptr(), dprev.ptr());
    std::swap(dx, dprev);
  }
  // Input gradients: serial so the sum order is fixed (determinism).
  if (config_.input_dim > 0) read_in_.backward(nullptr, dx.ptr(), features_.data(), N);
  for (int n = 0; n < N; ++n) {
    const float* d = dx.ptr() + int64_t(n) * D;
    if (config_.input_dim == 0) {
      float* g = tok_emb_grad_.ptr() + int64_t(tokens_[size_t(n)]) * D;
      for (int i = 0; i < D; ++i) g[i] += d[i];
    }
    if (pos_emb_.numel()) {
      float* pg = pos_emb_grad_.ptr() + int64_t(n % T_) * D;
      for (int i = 0; i < D; ++i) pg[i] += d[i];
    }
  }
}

void Transformer::ensure_grads() {
  for (const Param& p : params())
    if (p.grad->numel() != p.value->numel()) *p.grad = Tensor(p.value->shape);
}

void Transformer::zero_grad() {
  ensure_grads();
  for (const Param& p : params()) p.grad->zero();
}

namespace {

void check_weight_shape(const Param& p, const Tensor& t) {
  if (t.shape != p.value->shape)
    throw Error("weights: tensor '" + p.name + "' has shape " + t.shape_str() + ", the model expects " +
                p.value->shape_str());
}

}  // namespace

void Transformer::load_weights(const std::map<std::string, Tensor>& weights) {
  std::vector<Param> ps = params();
  for (const Param& p : ps) {
    auto it = weights.find(p.name);
    if (it == weights.end()) throw Error("weights: missing tensor '" + p.name + "'");
    check_weight_shape(p, it->second);
  }
  for (const auto& entry : weights) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda (the fuzz build).
    const std::string& name = entry.first;
    bool known = std::any_of(ps.begin(), ps.end(), [&](const Param& p) { return p.name == name; });
    if (!known)
      throw Error("weights: unexpected tensor '" + name + "' (not a parameter of this model)");
  }
  for (const Param& p : ps) p.value->data = weights.at(p.name).data;
}

void Transformer::load_weight(const std::string& name, Tensor&& t) {
  for (const Param& p : params())
    if (p.name == name) {
      check_weight_shape(p, t);
      p.value->data = std::move(t.data);
      return;
    }
  throw Error("weights: unexpected tensor '" + name + "' (not a parameter of this model)");
}

std::map<std::string, Tensor> Transformer::weights() {
  std::map<std::string, Tensor> w;
  for (const Param& p : params()) w[p.name] = *p.value;
  return w;
}

std::map<std::string, Tensor> Transformer::take_weights() {
  std::map<std::string, Tensor> w;
  for (const Param& p : params()) w[p.name] = std::move(*p.value);
  return w;
}

}  // namespace attnlab
