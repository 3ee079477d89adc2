#pragma once
// A 256-entry colour lookup table for maps drawn straight into QImages (fast at T = 2048),
// and the matching QCPColorGradient for colour scales.
#include <QColor>
#include <QRgb>
#include <array>
#include <qcustomplot.h>

namespace attnlab::gui {

struct ColorLut {
  std::array<QRgb, 256> rgb;
  QRgb at(double f) const {  // f in [0, 1], clamped
    const int i = f <= 0 ? 0 : f >= 1 ? 255 : int(f * 255.0 + 0.5);
    return rgb[i];
  }
};

const ColorLut& viridis_lut();
QCPColorGradient viridis_gradient();
// RdBu reversed for signed maps over [-top, top]: blue negative, white 0, red positive.
QCPColorGradient diverging_gradient();

// Grey for cells a query cannot see (above the causal diagonal).
inline QRgb masked_cell_rgb() { return qRgb(0xE4, 0xE4, 0xE4); }

}  // namespace attnlab::gui
