#include "core/model/norm_layer.h"

#include "core/layers/norm.h"

namespace attnlab {

NormLayer::NormLayer(NormKind kind_, int C_, float eps_)
    : kind(kind_), eps(eps_), C(C_), w({C_}, 1.0f) {
  gw.shape = {C_};  // allocated by Transformer::ensure_grads when training starts
  if (kind == NormKind::layernorm) {
    b = Tensor({C_});
    gb.shape = {C_};
  }
}

void NormLayer::forward(float* y, const float* x, int N) {
  rstd.resize({N});
  if (kind == NormKind::layernorm) {
    mean.resize({N});
    layernorm_forward(y, mean.ptr(), rstd.ptr(), x, w.ptr(), b.ptr(), N, C, eps);
  } else {
    rmsnorm_forward(y, rstd.ptr(), x, w.ptr(), N, C, eps);
  }
}

void NormLayer::backward(float* dx, const float* dy, const float* x, int N) {
  if (kind == NormKind::layernorm)
    layernorm_backward(dx, gw.ptr(), gb.ptr(), dy, x, w.ptr(), mean.ptr(), rstd.ptr(), N, C);
  else
    rmsnorm_backward(dx, gw.ptr(), dy, x, w.ptr(), rstd.ptr(), N, C);
}

void NormLayer::append_params(std::vector<Param>& ps, const std::string& prefix) {
  ps.push_back({prefix + ".weight", &w, &gw, false});
  if (b.numel()) ps.push_back({prefix + ".bias", &b, &gb, false});
}

}  // namespace attnlab
