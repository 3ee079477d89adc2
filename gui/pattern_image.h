#pragma once
// A head's T x T map as one QImage (row t = query t), coloured through a LUT, with the cells
// above the causal diagonal greyed; built once per head so redraws never touch T*T items.
#include <QImage>
#include <memory>
#include <vector>

#include "gui/attention_capture.h"

namespace attnlab::gui {

struct ColorScale {
  bool log = false;
  double lo = 0.0, hi = 1.0;  // log: lo > 0
};

// The colour range that shows a head well: linear [0, max], log [max(1e-4, max * 1e-4), max].
ColorScale auto_scale(const HeadPattern& p, bool log);

QImage build_pattern_image(const HeadPattern& p, const ColorScale& scale);

// Everything the map view draws for one head, computed off the UI thread (the costly part of
// a head switch: T*T colouring and the per-row statistics); applying it is a cheap replot.
struct PreparedMap {
  std::shared_ptr<const HeadPattern> pattern;
  ColorScale scale;
  QImage image;
  std::vector<double> alpha, entropy;
};
PreparedMap prepare_map(std::shared_ptr<const HeadPattern> p, bool log);

// Side panels: alpha_k (mean weight key k receives from the queries that see it, Gu et al.)
// and the normalized entropy of each query row (0 for the first row).
std::vector<double> key_importance(const HeadPattern& p);
std::vector<double> query_entropy(const HeadPattern& p);

}  // namespace attnlab::gui
