#include "core/model/linear_layer.h"

#include "core/layers/linear.h"

namespace attnlab {

LinearLayer::LinearLayer(int in_, int out_, bool bias) : in(in_), out(out_), W({out_, in_}) {
  gW.shape = {out_, in_};  // allocated by Transformer::ensure_grads when training starts
  if (bias) {
    b = Tensor({out_});
    gb.shape = {out_};
  }
}

void LinearLayer::init(Rng& rng, float std) {
  for (float& w : W.data) w = float(rng.normal() * std);
  b.zero();
}

void LinearLayer::forward(float* y, const float* x, int N) const {
  linear_forward(y, x, W.ptr(), b.numel() ? b.ptr() : nullptr, N, in, out);
}

void LinearLayer::backward(float* dx, const float* dy, const float* x, int N) {
  linear_backward(dx, gW.ptr(), gb.numel() ? gb.ptr() : nullptr, dy, x, W.ptr(), N, in, out);
}

void LinearLayer::append_params(std::vector<Param>& ps, const std::string& prefix) {
  ps.push_back({prefix + ".weight", &W, &gW, true});
  if (b.numel()) ps.push_back({prefix + ".bias", &b, &gb, false});
}

}  // namespace attnlab
