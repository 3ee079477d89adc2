#include "gui/pattern_image.h"

#include <algorithm>
#include <cmath>

#include "analysis/row_metrics.h"
#include "gui/color_lut.h"

namespace attnlab::gui {

ColorScale auto_scale(const HeadPattern& p, bool log) {
  float mx = 0;
  for (float v : p.w) mx = std::max(mx, std::abs(v));
  if (mx <= 0) mx = 1;
  ColorScale s;
  s.log = log;
  s.hi = mx;
  s.lo = log ? std::max(1e-4, mx * 1e-4) : 0.0;
  return s;
}

QImage build_pattern_image(const HeadPattern& p, const ColorScale& scale) {
  const int T = p.T;
  QImage img(T, T, QImage::Format_RGB32);
  const ColorLut& lut = viridis_lut();
  const QRgb masked = masked_cell_rgb();
  const double llo = scale.log ? std::log(scale.lo) : 0.0;
  const double inv = scale.log ? 1.0 / (std::log(scale.hi) - llo) : 1.0 / (scale.hi - scale.lo);
  for (int t = 0; t < T; ++t) {
    QRgb* line = reinterpret_cast<QRgb*>(img.scanLine(t));
    const float* row = p.w.data() + size_t(t) * T;
    if (scale.log) {
      for (int j = 0; j <= t; ++j) {
        const double v = std::abs(row[j]);
        line[j] = v <= scale.lo ? lut.rgb[0] : lut.at((std::log(v) - llo) * inv);
      }
    } else {
      for (int j = 0; j <= t; ++j) line[j] = lut.at((std::abs(row[j]) - scale.lo) * inv);
    }
    std::fill(line + t + 1, line + T, masked);
  }
  return img;
}

std::vector<double> key_importance(const HeadPattern& p) {
  const int T = p.T;
  std::vector<double> a(T, 0.0);
  for (int t = 0; t < T; ++t) {
    const float* row = p.w.data() + size_t(t) * T;
    for (int j = 0; j <= t; ++j) a[j] += row[j];
  }
  for (int k = 0; k < T; ++k) a[k] /= double(T - k);
  return a;
}

std::vector<double> query_entropy(const HeadPattern& p) {
  const int T = p.T;
  std::vector<double> e(T, 0.0);
  std::vector<float> row;
  for (int t = 1; t < T; ++t) {
    row.assign(p.w.begin() + size_t(t) * T, p.w.begin() + size_t(t) * T + t + 1);
    proxy_normalize(row.data(), t + 1);
    e[t] = attnlab::row_entropy(row.data(), t + 1) / std::log(double(t + 1));
  }
  return e;
}

}  // namespace attnlab::gui
