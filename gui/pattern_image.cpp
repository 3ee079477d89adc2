#include "gui/pattern_image.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "gui/color_lut.h"

// Single-threaded on purpose: these run on the UI thread, often while a training run keeps
// every core busy, and OpenMP barriers on busy cores cost more than the loops themselves.
namespace attnlab::gui {

ColorScale auto_scale(const HeadPattern& p, bool log) {
  // The top of the scale is a high quantile of the visible weights, not their maximum: the
  // first rows (query 0 has a single key of weight 1) would otherwise wash every other row out.
  // Weights above it saturate; the hover read-out and the CSV keep the exact values.
  const int T = p.T;
  const int64_t cells = int64_t(T) * (T + 1) / 2;
  const int64_t stride = std::max<int64_t>(1, cells / 200000);
  std::vector<float> sample;
  sample.reserve(size_t(cells / stride + 1));
  int64_t i = 0;
  float mx = 0;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j <= t; ++j, ++i) {
      const float v = std::abs(p.w[size_t(t) * T + j]);
      mx = std::max(mx, v);
      if (i % stride == 0) sample.push_back(v);
    }
  float hi = mx;
  if (sample.size() > 100) {
    auto q = sample.begin() + ptrdiff_t(sample.size() * 0.995);
    std::nth_element(sample.begin(), q, sample.end());
    hi = std::max(*q, mx * 0.05f);
  }
  if (hi <= 0) hi = 1;
  ColorScale s;
  s.log = log;
  s.hi = hi;
  s.lo = log ? std::max(1e-5, hi * 1e-4) : 0.0;
  return s;
}

// Index 0 is the masked grey, 1..255 the colour map: the index grows with the weight, so the
// max-pooled levels of the pyramid keep the strongest weight of each block (a sink column or a
// sharp diagonal stays visible when the map has more cells than the screen has pixels).
QVector<QRgb> pattern_color_table() {
  QVector<QRgb> table(256);
  table[0] = masked_cell_rgb();
  for (int i = 1; i < 256; ++i) table[i] = viridis_lut().at((i - 1) / 254.0);
  return table;
}

QImage build_pattern_image(const HeadPattern& p, const ColorScale& scale) {
  const int T = p.T;
  QImage img(T, T, QImage::Format_Indexed8);
  img.setColorTable(pattern_color_table());
  const float llo = scale.log ? std::log(float(scale.lo)) : 0.0f;
  const float k = 254.0f / (scale.log ? std::log(float(scale.hi)) - llo : float(scale.hi - scale.lo));
  const float lo = float(scale.lo);
  auto index = [](float x) { return uchar(1 + int(std::min(254.0f, std::max(0.0f, x + 0.5f)))); };
  for (int t = 0; t < T; ++t) {
    uchar* line = img.scanLine(t);
    const float* row = p.w.data() + size_t(t) * T;
    if (scale.log) {
      for (int j = 0; j <= t; ++j) line[j] = index((std::log(std::max(std::abs(row[j]), lo)) - llo) * k);
    } else {
      for (int j = 0; j <= t; ++j) line[j] = index((std::abs(row[j]) - lo) * k);
    }
    std::fill(line + t + 1, line + T, uchar(0));
  }
  return img;
}

std::vector<QImage> image_pyramid(const QImage& full) {
  std::vector<QImage> levels{full};
  while (levels.back().width() > 64) {
    const QImage& src = levels.back();
    const int w = (src.width() + 1) / 2, h = (src.height() + 1) / 2;
    QImage dst(w, h, QImage::Format_Indexed8);
    dst.setColorTable(src.colorTable());
    for (int y = 0; y < h; ++y) {
      const uchar* a = src.constScanLine(2 * y);
      const uchar* b = src.constScanLine(std::min(2 * y + 1, src.height() - 1));
      uchar* out = dst.scanLine(y);
      for (int x = 0; x < w; ++x) {
        const int x1 = std::min(2 * x + 1, src.width() - 1);
        out[x] = std::max(std::max(a[2 * x], a[x1]), std::max(b[2 * x], b[x1]));
      }
    }
    levels.push_back(std::move(dst));
  }
  return levels;
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
  // The side panels and the image read the same map independently: two threads.
  std::thread panels([&] {
    m.alpha = key_importance(*p);
    m.entropy = query_entropy(*p);
  });
  m.scale = auto_scale(*p, log);
  m.levels = image_pyramid(build_pattern_image(*p, m.scale));
  panels.join();
  m.pattern = std::move(p);
  return m;
}

}  // namespace attnlab::gui
