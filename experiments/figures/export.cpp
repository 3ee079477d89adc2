#include "experiments/figures/export.h"

#include <QApplication>
#include <QPageSize>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tensor/error.h"

namespace attnlab::fig {

void ensure_qt_app() {
  if (QApplication::instance()) return;
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM"))
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
  if (!std::getenv("XDG_RUNTIME_DIR")) {  // Qt warns on every start without one
    std::string dir = "/tmp/runtime-" + std::to_string(getuid());
    mkdir(dir.c_str(), 0700);
    setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
  }
  static int argc = 1;
  static char name[] = "attnlab";
  static char* argv[] = {name, nullptr};
  new QApplication(argc, argv);  // lives for the rest of the process
}

namespace {

// QCustomPlot::savePdf, with images kept lossless: Qt's PDF writer otherwise stores a heatmap
// as JPEG when that is smaller, and JPEG's chroma subsampling smears colour across cells.
bool save_pdf(QCustomPlot& plot, const QString& path, int w, int h, const QString& title) {
  QPdfWriter writer(path);
  writer.setCreator("attnlab");
  writer.setTitle(title);
  writer.setResolution(96);
  writer.setPageSize(QPageSize(QSizeF(w / 96.0, h / 96.0), QPageSize::Inch));
  writer.setPageMargins(QMarginsF(0, 0, 0, 0));
  QCPPainter painter;
  if (!painter.begin(&writer)) return false;
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  painter.setMode(QCPPainter::pmNonCosmetic);  // hairlines stay visible when the PDF is scaled
  painter.setRenderHint(QPainter::LosslessImageRendering);
  plot.toPainter(&painter, w, h);
  return painter.end();
}

}  // namespace

void save_figure(QCustomPlot& plot, const std::string& path, const PaperStyle& s) {
  namespace fs = std::filesystem;
  std::string ext = fs::path(path).extension().string();
  // Logical size in 1/96 inch units; PNG scales it to the style's dpi.
  int w = int(s.width_in * 96 + 0.5), h = int(s.height_in * 96 + 0.5);
  plot.resize(w, h);
  plot.replot(QCustomPlot::rpImmediateRefresh);
  fs::path target(path);
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path());
  fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp" + ext);
  QString q = QString::fromStdString(tmp.string());
  bool ok = false;
  if (ext == ".pdf") {
    ok = save_pdf(plot, q, w, h, QString::fromStdString(target.stem().string()));
  } else if (ext == ".png") {
    ok = plot.savePng(q, w, h, s.dpi / 96.0, -1, s.dpi, QCP::ruDotsPerInch);
  } else if (ext == ".svg") {
    QSvgGenerator gen;
    gen.setFileName(q);
    gen.setSize(QSize(w, h));
    gen.setViewBox(QRect(0, 0, w, h));
    gen.setResolution(96);
    gen.setTitle(QString::fromStdString(target.stem().string()));
    QCPPainter painter;
    ok = painter.begin(&gen);
    if (ok) {
      plot.toPainter(&painter, w, h);
      ok = painter.end();
    }
  } else {
    throw Error("figure '" + path + "': unknown format '" + ext + "' (use .pdf, .svg or .png)");
  }
  std::error_code ec;
  if (!ok || !fs::exists(tmp) || fs::file_size(tmp) == 0) {
    fs::remove(tmp, ec);
    throw Error("could not write figure '" + path + "'");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("could not write figure '" + path + "': " + ec.message());
  }
}

}  // namespace attnlab::fig
