#pragma once
// Saving a QCustomPlot headless: PDF (vector), SVG (vector, via QSvgGenerator), PNG at the
// style's dpi (with the resolution recorded in the file). Written atomically.
#include <qcustomplot.h>

#include <string>

#include "experiments/figures/paper_style.h"

namespace attnlab::fig {

// Makes sure a QApplication exists (QCustomPlot is a widget). Without a display it selects the
// offscreen platform first, so the CLI draws figures over ssh and in CI.
void ensure_qt_app();

// Format from the extension: .pdf, .svg or .png. Throws attnlab::Error otherwise or on failure.
void save_figure(QCustomPlot& plot, const std::string& path, const PaperStyle& s = paper_style());

}  // namespace attnlab::fig
