#include "gui/figure_export.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QClipboard>
#include <QFileInfo>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

#include "core/tensor/error.h"
#include "experiments/figures/export.h"
#include "gui/plot_style.h"

namespace attnlab::gui {
namespace {
std::string s(const QString& q) { return q.toStdString(); }

void check_size(const FigureSize& size) {
  if (!(size.width_in >= 1 && size.width_in <= 20) ||
      !(size.height_in >= 0 && size.height_in <= 20) || size.dpi < 50 || size.dpi > 1200)
    throw Error("figure size " + std::to_string(size.width_in) + " x " +
                std::to_string(size.height_in) + " in at " + std::to_string(size.dpi) +
                " dpi: expected 1 to 20 in and 50 to 1200 dpi");
}
}  // namespace

QSize exported_png_size(const FigureSize& size) {
  // Logical size in 1/96 inch units (what save_figure lays out), scaled to the dpi.
  const int w = int(size.width_in * 96 + 0.5), h = int(size.height_or(1.0) * 96 + 0.5);
  return QSize(int(w * (size.dpi / 96.0)), int(h * (size.dpi / 96.0)));
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

void export_panels(const std::vector<QCustomPlot*>& plots, const QString& path,
                   const FigureSize& size) {
  check_size(size);
  if (plots.empty()) throw Error("nothing to export to '" + s(path) + "'");
  const QString ext = QFileInfo(path).suffix().toLower();
  if (ext != "pdf" && ext != "svg" && ext != "png")
    throw Error("figure '" + s(path) + "': unknown format '." + s(ext) +
                "' (use .pdf, .svg or .png)");
  const int n = int(plots.size());
  const int W = int(size.width_in * 96 + 0.5), H = int(size.height_or(1.0 / n) * 96 + 0.5),
            pw = W / n;
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    throw Error("cannot write '" + s(path) + "': " + s(file.errorString()));
  // One layout pass at the figure's size first: the token axes pick which labels fit from the
  // laid-out length, and take effect at the next layout.
  for (QCustomPlot* p : plots) {
    QImage scratch(pw, H, QImage::Format_ARGB32);
    QCPPainter painter(&scratch);
    p->toPainter(&painter, pw, H);
  }
  auto draw = [&](QCPPainter& painter) {
    for (int i = 0; i < n; ++i) {
      painter.save();
      painter.translate(i * pw, 0);
      plots[size_t(i)]->toPainter(&painter, pw, H);
      painter.restore();
    }
  };
  bool ok = true;
  if (ext == "png") {
    const double scale = size.dpi / 96.0;
    QImage img(int(W * scale), int(H * scale), QImage::Format_ARGB32);
    img.fill(Qt::white);
    img.setDotsPerMeterX(int(size.dpi / 0.0254 + 0.5));
    img.setDotsPerMeterY(int(size.dpi / 0.0254 + 0.5));
    {
      QCPPainter painter(&img);
      painter.setRenderHint(QPainter::Antialiasing);
      painter.scale(scale, scale);
      draw(painter);
    }
    ok = img.save(&file, "PNG");
  } else if (ext == "pdf") {
    QPdfWriter writer(&file);
    writer.setResolution(96);
    writer.setPageSize(QPageSize(QSizeF(W / 96.0, H / 96.0), QPageSize::Inch));
    writer.setPageMargins(QMarginsF(0, 0, 0, 0));
    writer.setCreator("attnlab");
    QCPPainter painter;
    ok = painter.begin(&writer);
    if (ok) {
      painter.setMode(QCPPainter::pmVectorized);
      painter.setMode(QCPPainter::pmNoCaching);
      draw(painter);
      ok = painter.end();
    }
  } else {
    QSvgGenerator gen;
    gen.setOutputDevice(&file);
    gen.setSize(QSize(W, H));
    gen.setViewBox(QRect(0, 0, W, H));
    gen.setResolution(96);
    QCPPainter painter;
    ok = painter.begin(&gen);
    if (ok) {
      draw(painter);
      ok = painter.end();
    }
  }
  for (QCustomPlot* p : plots) p->replot();  // toPainter laid them out at the figure's size
  if (!ok || !file.commit()) throw Error("could not write figure '" + s(path) + "'");
}

void export_widget(QWidget* widget, const QString& path, const FigureSize& size) {
  check_size(size);
  const QString ext = QFileInfo(path).suffix().toLower();
  if (ext != "pdf" && ext != "svg" && ext != "png")
    throw Error("figure '" + s(path) + "': unknown format '." + s(ext) +
                "' (use .pdf, .svg or .png)");
  const int W = int(size.width_in * 96 + 0.5);
  const double k = double(W) / std::max(1, widget->width());
  const int H = int(widget->height() * k + 0.5);
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    throw Error("cannot write '" + s(path) + "': " + s(file.errorString()));
  bool ok = true;
  auto draw = [&](QPainter& p) {
    p.scale(k, k);
    widget->render(&p);
  };
  if (ext == "png") {
    const double scale = size.dpi / 96.0;
    QImage img(int(W * scale), int(H * scale), QImage::Format_ARGB32);
    img.fill(Qt::white);
    img.setDotsPerMeterX(int(size.dpi / 0.0254 + 0.5));
    img.setDotsPerMeterY(int(size.dpi / 0.0254 + 0.5));
    {
      QPainter p(&img);
      p.scale(scale, scale);
      draw(p);
    }
    ok = img.save(&file, "PNG");
  } else if (ext == "pdf") {
    QPdfWriter writer(&file);
    writer.setResolution(96);
    writer.setPageSize(QPageSize(QSizeF(W / 96.0, H / 96.0), QPageSize::Inch));
    writer.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter p;
    ok = p.begin(&writer);
    if (ok) {
      draw(p);
      ok = p.end();
    }
  } else {
    QSvgGenerator gen;
    gen.setOutputDevice(&file);
    gen.setSize(QSize(W, H));
    gen.setViewBox(QRect(0, 0, W, H));
    QPainter p;
    ok = p.begin(&gen);
    if (ok) {
      draw(p);
      ok = p.end();
    }
  }
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
