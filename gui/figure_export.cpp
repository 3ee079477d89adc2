#include "gui/figure_export.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QClipboard>
#include <QFileInfo>
#include <QSaveFile>
#include <QWidget>

#include "core/tensor/error.h"
#include "experiments/figures/export.h"
#include "gui/plot_style.h"

namespace attnlab::gui {
namespace {
std::string s(const QString& q) { return q.toStdString(); }

// The format from the extension; an error naming the file for any but .pdf, .svg and .png.
QString figure_format(const QString& path) {
  const QString ext = QFileInfo(path).suffix().toLower();
  if (ext != "pdf" && ext != "svg" && ext != "png")
    throw Error("figure '" + s(path) + "': unknown format '." + s(ext) + "' (use .pdf, .svg or .png)");
  return ext;
}

void check_size(const FigureSize& size) {
  if (!(size.width_in >= 1 && size.width_in <= 20) ||
      !(size.height_in >= 0 && size.height_in <= 20) || size.dpi < 50 || size.dpi > 1200)
    throw Error("figure size " + std::to_string(size.width_in) + " x " +
                std::to_string(size.height_in) + " in at " + std::to_string(size.dpi) +
                " dpi: expected 1 to 20 in and 50 to 1200 dpi");
}
}  // namespace

namespace {

// Every axis of the plot: its axis rects' and its colour scales'.
std::vector<QCPAxis*> all_axes(QCustomPlot* plot) {
  std::vector<QCPAxis*> out;
  for (QCPAxisRect* r : plot->axisRects())
    for (QCPAxis* a : r->axes()) out.push_back(a);
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
    if (auto* cs = qobject_cast<QCPColorScale*>(e)) out.push_back(cs->axis());
  return out;
}

QFont scaled(QFont f, double k) {
  if (f.pointSizeF() > 0) f.setPointSizeF(f.pointSizeF() * k);
  return f;
}

}  // namespace

PaperFonts::PaperFonts(const std::vector<QCustomPlot*>& plots) : plots_(plots) {
  // The screen style's sizes (8 pt ticks, 9 pt labels, 10 pt titles) to the paper's (7, 8, 8.5).
  const double k = fig::paper_style().tick_pt / screen_style().tick_pt;
  for (QCustomPlot* plot : plots) {
    for (QCPAxis* a : all_axes(plot)) {
      saved_.push_back({a, {a->tickLabelFont(), a->labelFont()}});
      a->setTickLabelFont(scaled(a->tickLabelFont(), k));
      a->setLabelFont(scaled(a->labelFont(), k));
    }
    for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
      if (auto* t = qobject_cast<QCPTextElement*>(e)) {
        saved_.push_back({t, {t->font()}});
        t->setFont(scaled(t->font(), k));
      }
  }
}

PaperFonts::~PaperFonts() {
  for (auto& [obj, fonts] : saved_) {
    if (auto* a = qobject_cast<QCPAxis*>(obj)) {
      a->setTickLabelFont(fonts[0]);
      a->setLabelFont(fonts[1]);
    } else if (auto* t = qobject_cast<QCPTextElement*>(obj)) {
      t->setFont(fonts[0]);
    }
  }
  for (QCustomPlot* p : plots_) p->replot(QCustomPlot::rpQueuedReplot);
}

QSize exported_png_size(const FigureSize& size) {
  // Logical size in 1/96 inch units (what save_figure lays out), scaled to the dpi.
  const int w = int(size.width_in * 96 + 0.5), h = int(size.height_or(1.0) * 96 + 0.5);
  return QSize(int(w * (size.dpi / 96.0)), int(h * (size.dpi / 96.0)));
}

void layout_plot(QCustomPlot* plot, int width, int height) {
  // Twice: the token axes pick which labels fit from the laid-out length, and the new labels
  // change the margins at the next layout.
  for (int pass = 0; pass < 2; ++pass) {
    QImage scratch(std::max(1, width), std::max(1, height), QImage::Format_ARGB32);
    QCPPainter painter(&scratch);
    plot->toPainter(&painter, width, height);
  }
}

int fitted_height(QCustomPlot* plot, int width) {
  layout_plot(plot, width, 4 * width + 400);
  int bottom = 0;
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true))
    if (e && !qobject_cast<QCPLayout*>(e) && e->visible() && e->outerRect().height() > 0)
      bottom = std::max(bottom, e->outerRect().bottom() + 1);
  return bottom + 6;
}

void export_plot(QCustomPlot* plot, const QString& path, const FigureSize& size) {
  check_size(size);
  // Fonts and pens from the paper style; the size from the request, never from the window.
  fig::PaperStyle style = screen_style();
  style.width_in = size.width_in;
  style.height_in = size.height_or(double(plot->height()) / std::max(1, plot->width()));
  style.dpi = size.dpi;
  const QSize keep = plot->size();
  try {
    fig::save_figure(*plot, s(path), style);
  } catch (...) {
    plot->resize(keep);
    plot->replot();
    throw;
  }
  plot->resize(keep);
  plot->replot();
}

void export_panels(const std::vector<QCustomPlot*>& plots, const std::vector<QRect>& rects,
                   const QString& path, int dpi) {
  if (plots.empty() || rects.size() != plots.size())
    throw Error("nothing to export to '" + s(path) + "'");
  const QString ext = figure_format(path);
  const int n = int(plots.size());
  QRect all;
  for (const QRect& r : rects) all = all.united(r);
  const int W = all.right() + 1, H = all.bottom() + 1;
  const FigureSize size{W / 96.0, H / 96.0, dpi};
  check_size(size);
  for (int i = 0; i < n; ++i) layout_plot(plots[size_t(i)], rects[size_t(i)].width(), rects[size_t(i)].height());
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    throw Error("cannot write '" + s(path) + "': " + s(file.errorString()));
  const bool ok = fig::paint_figure(file, s(ext), W, H, dpi, QFileInfo(path).completeBaseName(), [&](QCPPainter& painter) {
    for (int i = 0; i < n; ++i) {
      const QRect& r = rects[size_t(i)];
      painter.save();
      painter.translate(r.topLeft());
      plots[size_t(i)]->toPainter(&painter, r.width(), r.height());
      painter.restore();
    }
  });
  for (QCustomPlot* p : plots) p->replot();  // toPainter laid them out at the figure's size
  if (!ok || !file.commit()) throw Error("could not write figure '" + s(path) + "'");
}

void export_widget(QWidget* widget, const QString& path, const FigureSize& size) {
  check_size(size);
  const QString ext = figure_format(path);
  const int W = int(size.width_in * 96 + 0.5);
  const double k = double(W) / std::max(1, widget->width());
  const int H = int(widget->height() * k + 0.5);
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    throw Error("cannot write '" + s(path) + "': " + s(file.errorString()));
  const bool ok = fig::paint_figure(file, s(ext), W, H, size.dpi, QFileInfo(path).completeBaseName(),
                                    [&](QCPPainter& p) {
                                      p.scale(k, k);
                                      widget->render(&p);
                                    });
  if (!ok || !file.commit()) throw Error("could not write figure '" + s(path) + "'");
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

QString figure_file_filter() { return "PDF (*.pdf);;SVG (*.svg);;PNG (*.png);;CSV data (*.csv)"; }

}  // namespace attnlab::gui
