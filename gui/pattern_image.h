#pragma once
// A head's T x T map as one QImage (row t = query t, 8-bit colour indices), coloured through
// the paper style's viridis, with the cells above the causal diagonal greyed; built once per
// head so redraws never touch T*T items.
#include <QImage>
#include <memory>
#include <vector>

#include "gui/attention_capture.h"
#include "gui/map_tile.h"

namespace attnlab::gui {

struct ColorScale {
  bool log = false;
  double lo = 0.0, hi = 1.0;  // log: lo > 0
};

// The colour range that shows a head well: [0, hi] linear or [hi * 1e-4, hi] log, where hi is
// the 99.5th percentile of the visible weights (so the single-key first rows do not set it).
ColorScale auto_scale(const HeadPattern& p, bool log);
// The scale with top `hi` (ScaleTopSampler::top()), linear or log.
ColorScale scale_with_top(double hi, bool log);

// 8-bit colour indices: 0 is the masked grey, 1..255 the colour map, growing with |weight|.
QVector<QRgb> pattern_color_table();
class ColorIndex {
 public:
  explicit ColorIndex(const ColorScale& s);
  uchar operator()(float w) const;

 private:
  bool log_;
  float lo_, llo_, k_;
};

QImage build_pattern_image(const HeadPattern& p, const ColorScale& scale);
// A tile's pixels coloured the same way; pixels whose every cell is masked (keys all in the
// future of the queries) are grey.
QImage build_tile_image(const MapTile& tile, const ColorScale& scale);
// A signed map (a difference A - B) through the diverging palette (RdBu inverted: red where
// positive, blue where negative, white at 0) over [-top, top]; index 0 is the masked grey and
// index 128 is 0.
QVector<QRgb> diverging_color_table();
QImage build_difference_image(const HeadPattern& d, double top);
// Level 0 is `full`; each next level halves both sides keeping the largest colour index of
// each 2x2 block (diverging: the index furthest from the centre), down to 64 pixels. The
// plottable draws the level that matches the screen.
std::vector<QImage> image_pyramid(const QImage& full, bool diverging = false);

// Everything the map view draws for one head, computed off the UI thread (the costly part of
// a head switch: T*T colouring and the per-row statistics); applying it is a cheap replot.
struct PreparedMap {
  std::shared_ptr<const HeadPattern> pattern;
  ColorScale scale;
  std::vector<QImage> levels;  // image_pyramid of the coloured map
  std::vector<double> alpha, entropy;
};
PreparedMap prepare_map(std::shared_ptr<const HeadPattern> p, bool log);

// Side panels: alpha_k (mean weight key k receives from the queries that see it, Gu et al.)
// and the normalized entropy of each query row (0 for the first row).
std::vector<double> key_importance(const HeadPattern& p);
std::vector<double> query_entropy(const HeadPattern& p);

}  // namespace attnlab::gui
