#include "analysis/sparse/channel_calibration.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/tensor/error.h"

namespace attnlab {

ChannelCalibration::ChannelCalibration(int n_layers, int n_heads)
    : L_(n_layers),
      H_(n_heads),
      sum_(size_t(n_layers) * n_heads),
      order_(size_t(n_layers) * n_heads) {}

void ChannelCalibration::on_attention(const LayerAttentionView& view) {
  const AttnInputs& in = *view.inputs;
  const AttnShape& s = in.shape;
  if (view.layer < 0 || view.layer >= L_ || s.H != H_)
    throw Error("channel calibration: built for " + std::to_string(L_) + " layers x " +
                std::to_string(H_) + " heads");
  for (int h = 0; h < s.H; ++h) {
    std::vector<double>& acc = sum_[size_t(view.layer) * H_ + h];
    acc.resize(size_t(s.Dh), 0.0);
    for (int b = 0; b < s.B; ++b) {
      const int64_t base = (int64_t(b) * s.H + h) * s.head_size();
      for (int t = 0; t < s.T; ++t)
        for (int c = 0; c < s.Dh; ++c)
          acc[size_t(c)] += std::fabs(double(in.q[base + int64_t(t) * s.Dh + c]) *
                                      in.k[base + int64_t(t) * s.Dh + c]);
    }
    order_[size_t(view.layer) * H_ + h].clear();
  }
  if (view.layer == 0) rows_ += int64_t(s.B) * s.T;
}

const std::vector<int>& ChannelCalibration::channels(int layer, int head) const {
  if (!calibrated()) throw Error("channel calibration: run a forward on calibration inputs first");
  if (layer < 0 || layer >= L_ || head < 0 || head >= H_)
    throw Error("channel calibration: no head L" + std::to_string(layer) + "H" +
                std::to_string(head));
  const std::vector<double>& s = sum_[size_t(layer) * H_ + head];
  std::vector<int>& o = order_[size_t(layer) * H_ + head];
  if (o.empty()) {
    o.resize(s.size());
    std::iota(o.begin(), o.end(), 0);
    std::stable_sort(o.begin(), o.end(), [&](int a, int b) { return s[size_t(a)] > s[size_t(b)]; });
  }
  return o;
}

}  // namespace attnlab
