#pragma once
// A head's T x T map as one QImage (row t = query t), coloured through a LUT, with the cells
// above the causal diagonal greyed; built once per head so redraws never touch T*T items.
#include <QImage>
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

// Side panels: alpha_k (mean weight key k receives from the queries that see it, Gu et al.)
// and the normalized entropy of each query row (analysis/row_metrics; 0 for the first row).
std::vector<double> key_importance(const HeadPattern& p);
std::vector<double> query_entropy(const HeadPattern& p);

}  // namespace attnlab::gui
