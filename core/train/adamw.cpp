#include "core/train/adamw.h"

#include <cmath>

#include "core/tensor/error.h"

namespace attnlab {

AdamW::AdamW(std::vector<Param> params, AdamWConfig cfg) : params_(std::move(params)), cfg_(cfg) {
  for (const Param& p : params_) {
    m_.emplace_back(p.value->shape);
    v_.emplace_back(p.value->shape);
  }
}

float AdamW::clip_grad_norm(float max_norm) {
  double ss = 0;
  for (const Param& p : params_)
    for (float g : p.grad->data) ss += double(g) * g;
  float norm = float(std::sqrt(ss));
  if (max_norm > 0 && norm > max_norm) {
    float s = max_norm / (norm + 1e-6f);
    for (const Param& p : params_)
      for (float& g : p.grad->data) g *= s;
  }
  return norm;
}

void AdamW::step(float lr) {
  ++t_;
  const float b1 = cfg_.beta1, b2 = cfg_.beta2;
  const float c1 = 1.0f - float(std::pow(double(b1), double(t_)));
  const float c2 = 1.0f - float(std::pow(double(b2), double(t_)));
  for (size_t i = 0; i < params_.size(); ++i) {
    float* w = params_[i].value->ptr();
    const float* g = params_[i].grad->ptr();
    float* m = m_[i].ptr();
    float* v = v_[i].ptr();
    const float wd = params_[i].decay ? cfg_.weight_decay : 0.0f;
    const int64_t n = params_[i].value->numel();
#pragma omp parallel for
    for (int64_t j = 0; j < n; ++j) {
      m[j] = b1 * m[j] + (1 - b1) * g[j];
      v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
      float mhat = m[j] / c1, vhat = v[j] / c2;
      w[j] -= lr * (mhat / (std::sqrt(vhat) + cfg_.eps) + wd * w[j]);
    }
  }
}

std::map<std::string, Tensor> AdamW::state() const {
  std::map<std::string, Tensor> s;
  for (size_t i = 0; i < params_.size(); ++i) {
    s["adam.m." + params_[i].name] = m_[i];
    s["adam.v." + params_[i].name] = v_[i];
  }
  return s;
}

void AdamW::load_state(const std::map<std::string, Tensor>& state, int64_t t) {
  for (size_t i = 0; i < params_.size(); ++i) {
    for (auto [prefix, dst] : {std::pair{"adam.m.", &m_[i]}, std::pair{"adam.v.", &v_[i]}}) {
      auto it = state.find(prefix + params_[i].name);
      if (it == state.end())
        throw Error("checkpoint: optimizer state for '" + params_[i].name + "' is missing");
      if (it->second.shape != dst->shape)
        throw Error("checkpoint: optimizer state for '" + params_[i].name + "' has shape " +
                    it->second.shape_str() + ", expected " + dst->shape_str());
      dst->data = it->second.data;
    }
  }
  t_ = t;
}

}  // namespace attnlab
