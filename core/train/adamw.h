#pragma once
// AdamW (Loshchilov & Hutter) with decoupled weight decay applied only to Params with decay=true.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace attnlab {

struct AdamWConfig {
  float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f;
};

class AdamW {
 public:
  AdamW(std::vector<Param> params, AdamWConfig cfg);
  void step(float lr);
  // Scales all gradients so their global L2 norm is at most max_norm; returns the norm before.
  float clip_grad_norm(float max_norm);
  int64_t t() const { return t_; }
  // Optimizer state as named tensors ("adam.m.<param>", "adam.v.<param>") for checkpoints.
  std::map<std::string, Tensor> state() const;
  void load_state(const std::map<std::string, Tensor>& state, int64_t t);

 private:
  std::vector<Param> params_;
  AdamWConfig cfg_;
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
};

}  // namespace attnlab
