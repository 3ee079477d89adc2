#include "gui/figure_export.h"

#include <QApplication>
#include <QClipboard>
#include <QSaveFile>
#include <qcustomplot.h>

#include "core/tensor/error.h"
#include "experiments/figures/export.h"
#include "gui/plot_style.h"

namespace attnlab::gui {
namespace {
std::string s(const QString& q) { return q.toStdString(); }
}  // namespace

void export_plot(QCustomPlot* plot, const QString& path) {
  // The figure keeps the size it has on screen; fonts, pens and dpi come from the paper style.
  fig::PaperStyle style = screen_style();
  style.width_in = plot->width() / 96.0;
  style.height_in = plot->height() / 96.0;
  const QSize keep = plot->size();
  try {
    fig::save_figure(*plot, s(path), style);
  } catch (...) {
    plot->resize(keep);
    throw;
  }
  plot->resize(keep);
}

void export_csv(const QString& csv, const QString& path) {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
    throw Error("cannot write '" + s(path) + "': " + s(f.errorString()));
  f.write(csv.toUtf8());
  if (!f.commit()) throw Error("cannot write '" + s(path) + "': " + s(f.errorString()));
}

void copy_plot_to_clipboard(QCustomPlot* plot) {
  QApplication::clipboard()->setPixmap(plot->toPixmap(plot->width(), plot->height(), 2.0));
}

QString figure_file_filter() {
  return "PDF (*.pdf);;SVG (*.svg);;PNG, 300 dpi (*.png);;CSV data (*.csv)";
}

}  // namespace attnlab::gui
