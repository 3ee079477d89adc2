#include "experiments/figures/export.h"

#include <QApplication>
#include <QFile>
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

bool paint_figure(QIODevice& device, const std::string& format, int w, int h, int dpi,
                  const QString& title, const std::function<void(QCPPainter&)>& draw) {
  if (format == "png") {
    const double scale = dpi / 96.0;
    QImage img(int(w * scale + 0.5), int(h * scale + 0.5), QImage::Format_ARGB32);
    img.fill(Qt::white);
    {
      QCPPainter painter(&img);
      painter.setRenderHint(QPainter::Antialiasing);
      painter.scale(scale, scale);
      draw(painter);
    }
    // The resolution only after painting: a painter on a 300 dpi image would draw point-size
    // fonts at 300 dpi on top of the scale, too large for the layout made at 96.
    img.setDotsPerMeterX(int(dpi / 0.0254 + 0.5));
    img.setDotsPerMeterY(int(dpi / 0.0254 + 0.5));
    return img.save(&device, "PNG");
  }
  QCPPainter painter;
  if (format == "pdf") {
    QPdfWriter writer(&device);
    writer.setCreator("attnlab");
    writer.setTitle(title);
    writer.setResolution(96);
    writer.setPageSize(QPageSize(QSizeF(w / 96.0, h / 96.0), QPageSize::Inch));
    writer.setPageMargins(QMarginsF(0, 0, 0, 0));
    if (!painter.begin(&writer)) return false;
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    painter.setMode(QCPPainter::pmNonCosmetic);  // hairlines stay visible when the PDF is scaled
    // Else Qt's PDF writer stores a heatmap as JPEG when that is smaller, and JPEG's chroma
    // subsampling smears colour across cells.
    painter.setRenderHint(QPainter::LosslessImageRendering);
    draw(painter);
    return painter.end();
  }
  if (format == "svg") {
    QSvgGenerator gen;
    gen.setOutputDevice(&device);
    gen.setSize(QSize(w, h));
    gen.setViewBox(QRect(0, 0, w, h));
    gen.setResolution(96);
    gen.setTitle(title);
    if (!painter.begin(&gen)) return false;
    draw(painter);
    return painter.end();
  }
  throw Error("figure format '" + format + "': use pdf, svg or png");
}


void save_figure(QCustomPlot& plot, const std::string& path, const PaperStyle& s) {
  namespace fs = std::filesystem;
  std::string ext = fs::path(path).extension().string();
  // Logical size in 1/96 inch units; PNG scales it to the style's dpi.
  int w = int(s.width_in * 96 + 0.5), h = int(s.height_in * 96 + 0.5);
  plot.resize(w, h);
  plot.replot(QCustomPlot::rpImmediateRefresh);
  if (ext != ".pdf" && ext != ".png" && ext != ".svg")
    throw Error("figure '" + path + "': unknown format '" + ext + "' (use .pdf, .svg or .png)");
  fs::path target(path);
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path());
  fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp" + ext);
  QString q = QString::fromStdString(tmp.string());
  QFile file(q);
  bool ok = file.open(QIODevice::WriteOnly) &&
            paint_figure(file, ext.substr(1), w, h, s.dpi, QString::fromStdString(target.stem().string()),
                         [&](QCPPainter& painter) { plot.toPainter(&painter, w, h); });
  file.close();
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
