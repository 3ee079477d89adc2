#pragma once
// An inference copy of a Transformer on the GPU: logits, and the fused attention statistics of
// every layer and head, without T x T memory — how `analyze --device cuda` measures all heads
// of a model at long context. Built from the named weights (Transformer::weights() naming), so
// the CPU model stays the reference it is tested against.
// Supported: learned/RoPE/no positions, LayerNorm/RMSNorm, GELU/GELU-tanh/SwiGLU, biases, GQA,
// parallel residual, tied or separate head. Attention "softmax" or "alibi", each with an optional
// window(size, sinks), runs in the fused kernels; every other registered variant runs through
// its CPU implementation (the correct generic path: q, k, v go to the host and back for that
// layer).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cuda/device_buffer.h"
#include "core/cuda/gemm.h"
#include "core/cuda/gpu_spec.h"
#include "core/cuda/stats.h"
#include "core/model/config.h"
#include "core/tensor/tensor.h"
#include "core/train/adamw.h"
#include "core/train/batch.h"

namespace attnlab::cuda {


class DeviceTransformer {
 public:
  DeviceTransformer(const ModelConfig& cfg, const std::map<std::string, Tensor>& weights,
                    Precision precision = Precision::fp32);
  ~DeviceTransformer();

  // tokens (host) [B, T]. Fills logits [B, T, V] when given, and stats[l] for every layer when
  // given (tokens feed the induction/duplicate sums).
  void forward(const int32_t* tokens, int B, int T, Tensor* logits, std::vector<StreamStats>* stats);

  // One tile of one head's attention map at `layer` (GUI zoom): runs the forward up to that
  // layer and returns [(t1-t0) x (j1-j0)] row-major (0 where a key is not visible).
  std::vector<float> attention_tile(const int32_t* tokens, int B, int T, int layer, const TileRequest& r);

  const ModelConfig& config() const { return cfg_; }

  // --- Training on the device (device_train.cpp): the whole step stays on the GPU; the host
  // sees only the loss. Same semantics as Transformer::forward_loss/backward and AdamW.
  // Masks must be 0/1 (the GPU loss weights scored positions equally).
  float forward_loss(const Batch& batch);
  void backward();  // accumulates into the gradients
  void zero_grad();
  float clip_grad_norm(float max_norm);  // global L2 norm before clipping
  // decay: parameter name -> AdamW decay flag (Transformer::params()); names absent: no decay.
  void adamw_step(float lr, const AdamWConfig& cfg, const std::map<std::string, bool>& decay);
  std::map<std::string, Tensor> weights() const;  // downloads, keyed by parameter name
  std::map<std::string, Tensor> grads() const;
  // AdamW moments as AdamW::state() names them ("adam.m.<param>", "adam.v.<param>") and the
  // step count, so a checkpoint written from the GPU resumes on either device.
  std::map<std::string, Tensor> optimizer_state() const;
  int64_t optimizer_step() const { return adam_t_; }
  void load_optimizer_state(const std::map<std::string, Tensor>& state, int64_t t);

 private:
  struct Activations;
  struct HostAttention;
  struct TileAsk {
    int layer;
    TileRequest req;
    std::vector<float>* out;
  };
  void forward_impl(const int32_t* tokens, int B, int T, Tensor* logits, std::vector<StreamStats>* stats,
                    const TileAsk* tile);
  void host_attention_forward(int layer, int B, int T, const float* q, const float* k, const float* v,
                              const float* xn, float* heads, StreamStats* stats, const int32_t* tokens);
  void host_attention_backward(int layer, const float* dheads, float* dq, float* dk, float* dv, float* dxn);
  std::vector<std::unique_ptr<HostAttention>> host_attn_;  // null where the kernels run the layer
  // The attention shape and mask of layer l for a [B, T] batch (window, sinks, ALiBi of its spec).
  AttnDims attn_dims(int layer, int B, int T) const;
  float* grad(const std::string& name);
  float* maybe_grad(const std::string& name);
  void norm_backward(const float* dy, const float* x, const std::string& prefix, const float* mean, const float* rstd,
                     int64_t N, float* dx);
  std::map<std::string, std::vector<int64_t>> shapes_;
  std::map<std::string, DeviceBuffer<float>> grads_, adam_m_, adam_v_;
  int64_t adam_t_ = 0;
  std::unique_ptr<Activations> act_;
  DeviceBuffer<float> sink_;  // gradient of a LayerNorm bias the model does not have
  const float* w(const std::string& name) const;
  const float* maybe(const std::string& name) const;
  void norm(const float* x, const std::string& prefix, int64_t N, float* y);
  ModelConfig cfg_;
  std::map<std::string, DeviceBuffer<float>> weights_;
  DeviceBuffer<float> zeros_, ones_;
  std::vector<GpuAttentionSpec> attn_;
  std::unique_ptr<Blas> blas_;
  DeviceBuffer<float> mean_, rstd_;
};

}  // namespace attnlab::cuda
