#include "gui/pattern_image.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "experiments/figures/paper_style.h"
#include "gui/color_lut.h"
#include "gui/map_statistics.h"

// Single-threaded on purpose: these run on the UI thread, often while a training run keeps
// every core busy, and OpenMP barriers on busy cores cost more than the loops themselves.
namespace attnlab::gui {

ColorScale auto_scale(const HeadPattern& p, bool log) {
  // Weights above the top saturate; the hover read-out and the CSV keep the exact values.
  ScaleTopSampler top(p.T);
  for (int t = 0; t < p.T; ++t) top.add_row(t, p.w.data() + size_t(t) * p.T);
  return scale_with_top(top.top(), log);
}

ColorScale scale_with_top(double hi, bool log) {
  ColorScale s;
  s.log = log;
  s.hi = hi > 0 ? hi : 1.0;
  s.lo = log ? std::max(1e-5, s.hi * 1e-4) : 0.0;
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

ColorIndex::ColorIndex(const ColorScale& s)
    : log_(s.log), lo_(float(s.lo)), llo_(s.log ? std::log(float(s.lo)) : 0.0f),
      k_(254.0f / (s.log ? std::log(float(s.hi)) - llo_ : float(s.hi - s.lo))) {}

uchar ColorIndex::operator()(float w) const {
  const float x = log_ ? (std::log(std::max(std::abs(w), lo_)) - llo_) * k_ : (std::abs(w) - lo_) * k_;
  return uchar(1 + int(std::min(254.0f, std::max(0.0f, x + 0.5f))));
}

QImage build_pattern_image(const HeadPattern& p, const ColorScale& scale) {
  const int T = p.T;
  QImage img(T, T, QImage::Format_Indexed8);
  img.setColorTable(pattern_color_table());
  const ColorIndex index(scale);
  for (int t = 0; t < T; ++t) {
    uchar* line = img.scanLine(t);
    const float* row = p.w.data() + size_t(t) * T;
    if (p.mask.causal_only()) {
      for (int j = 0; j <= t; ++j) line[j] = index(row[j]);
    } else {  // keys a window, block or dilation hides are greyed like the future
      for (int j = 0; j <= t; ++j) line[j] = p.mask.visible(t, j) ? index(row[j]) : uchar(0);
    }
    std::fill(line + t + 1, line + T, uchar(0));
  }
  return img;
}

QImage build_tile_image(const MapTile& tile, const ColorScale& scale) {
  const MapTileRequest& r = tile.req;
  QImage img(r.cols(), r.rows(), QImage::Format_Indexed8);
  img.setColorTable(pattern_color_table());
  const ColorIndex index(scale);
  for (int y = 0; y < r.rows(); ++y) {
    uchar* line = img.scanLine(y);
    const int last_query = std::min(r.t1, r.t0 + (y + 1) * r.pool_rows) - 1;
    for (int x = 0; x < r.cols(); ++x) {
      const int first_key = r.j0 + x * r.pool_cols;
      line[x] = first_key > last_query ? uchar(0) : index(tile.at(y, x));
    }
  }
  return img;
}

QVector<QRgb> diverging_color_table() {
  QVector<QRgb> table(256);
  table[0] = masked_cell_rgb();
  for (int i = 1; i < 256; ++i) table[i] = fig::colormap_color("RdBu", 1.0 - (i - 1) / 254.0).rgb();
  return table;
}

QImage build_difference_image(const HeadPattern& d, double top) {
  const int T = d.T;
  QImage img(T, T, QImage::Format_Indexed8);
  img.setColorTable(diverging_color_table());
  const float k = float(127.0 / (top > 0 ? top : 1.0));
  for (int t = 0; t < T; ++t) {
    uchar* line = img.scanLine(t);
    const float* row = d.w.data() + size_t(t) * T;
    for (int j = 0; j < T; ++j) {
      if (j > t || !d.mask.visible(t, j)) {
        line[j] = 0;
        continue;
      }
      const float x = std::min(127.0f, std::max(-127.0f, row[j] * k));
      line[j] = uchar(128 + int(std::lround(x)));
    }
  }
  return img;
}

std::vector<QImage> image_pyramid(const QImage& full, bool diverging) {
  // Diverging: the strongest difference of a block, either sign (masked 0 only when all are).
  auto pick = [diverging](uchar a, uchar b) -> uchar {
    if (!diverging) return std::max(a, b);
    if (a == 0) return b;
    if (b == 0) return a;
    return std::abs(int(a) - 128) >= std::abs(int(b) - 128) ? a : b;
  };
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
        out[x] = pick(pick(a[2 * x], a[x1]), pick(b[2 * x], b[x1]));
      }
    }
    levels.push_back(std::move(dst));
  }
  return levels;
}

std::vector<double> key_importance(const HeadPattern& p) {
  KeyImportanceSums a(p.T);
  for (int t = 0; t < p.T; ++t) a.add_row(t, p.w.data() + size_t(t) * p.T);
  return a.result(p.mask);
}

std::vector<double> query_entropy(const HeadPattern& p) {
  std::vector<double> e(size_t(p.T), 0.0);
  for (int t = 0; t < p.T; ++t)
    e[size_t(t)] = normalized_row_entropy(t, p.w.data() + size_t(t) * p.T, p.mask.visible_count(t));
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
