#pragma once
// Saving a QCustomPlot headless: PDF (vector), SVG (vector, via QSvgGenerator), PNG at the
// style's dpi (with the resolution recorded in the file). Written atomically.
#include <qcustomplot.h>

#include <functional>
#include <string>

#include "experiments/figures/paper_style.h"

namespace attnlab::fig {

// Makes sure a QApplication exists (QCustomPlot is a widget). Without a display it selects the
// offscreen platform first, so the CLI draws figures over ssh and in CI.
void ensure_qt_app();

// Paints `draw` on a w x h page (logical pixels of 1/96 in) as `format` ("pdf", "svg", or "png"
// at `dpi`) into `device`: the one page set-up every figure export uses (PDF images lossless).
// False when the device cannot be written; attnlab::Error for another format.
bool paint_figure(QIODevice& device, const std::string& format, int w, int h, int dpi,
                  const QString& title, const std::function<void(QCPPainter&)>& draw);

// Format from the extension: .pdf, .svg or .png. Throws attnlab::Error otherwise or on failure.
void save_figure(QCustomPlot& plot, const std::string& path, const PaperStyle& s = paper_style());

}  // namespace attnlab::fig
