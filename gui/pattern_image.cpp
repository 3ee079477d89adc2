#include "gui/pattern_image.h"

#include <algorithm>
#include <cmath>

#include "gui/color_lut.h"

// Single-threaded on purpose: these run on the UI thread, often while a training run keeps
// every core busy, and OpenMP barriers on busy cores cost more than the loops themselves.
namespace attnlab::gui {

ColorScale auto_scale(const HeadPattern& p, bool log) {
  float mx = 0;
  const int64_t n = int64_t(p.w.size());
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, std::abs(p.w[i]));
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
  const float llo = scale.log ? std::log(float(scale.lo)) : 0.0f;
  const float k = 255.0f / (scale.log ? std::log(float(scale.hi)) - llo : float(scale.hi - scale.lo));
  const float lo = float(scale.lo);
  auto index = [](float x) { return int(std::min(255.0f, std::max(0.0f, x + 0.5f))); };
  const qsizetype stride = img.bytesPerLine();
  uchar* bits = img.bits();
  for (int t = 0; t < T; ++t) {
    QRgb* line = reinterpret_cast<QRgb*>(bits + t * stride);
    const float* row = p.w.data() + size_t(t) * T;
    if (scale.log) {
      for (int j = 0; j <= t; ++j) {
        const float v = std::max(std::abs(row[j]), lo);
        line[j] = lut.rgb[index((std::log(v) - llo) * k)];
      }
    } else {
      for (int j = 0; j <= t; ++j) line[j] = lut.rgb[index((std::abs(row[j]) - lo) * k)];
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
  // Ent of the proxy-normalized row a/m without copying it: -sum (a/m) log(a/m)
  // = log m - (1/m) sum a log a (Zhai et al.; Gu et al.'s |a| proxy for unnormalized rows).
  const int T = p.T;
  std::vector<double> e(T, 0.0);
  for (int t = 1; t < T; ++t) {
    const float* row = p.w.data() + size_t(t) * T;
    float m = 0, s = 0;
    for (int j = 0; j <= t; ++j) {
      const float a = std::abs(row[j]);
      m += a;
      if (a > 0) s += a * std::log(a);
    }
    if (m > 0) e[t] = (std::log(double(m)) - s / m) / std::log(double(t + 1));
  }
  return e;
}

PreparedMap prepare_map(std::shared_ptr<const HeadPattern> p, bool log) {
  PreparedMap m;
  m.scale = auto_scale(*p, log);
  m.image = build_pattern_image(*p, m.scale);
  m.alpha = key_importance(*p);
  m.entropy = query_entropy(*p);
  m.pattern = std::move(p);
  return m;
}

}  // namespace attnlab::gui
