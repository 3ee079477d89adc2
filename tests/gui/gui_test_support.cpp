#include "tests/gui/gui_test_support.h"

#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSet>
#include <QTest>
#include <catch2/catch.hpp>
#include <cstdlib>

#include "experiments/figures/export.h"
#include "gui/job_runner.h"
#include "gui/main_window.h"
#include "gui/prompt_panel.h"
#include "tests/test_support.h"

namespace attnlab::test {

QApplication& gui_app() {
  fig::ensure_qt_app();
  // Tests keep their recent-files list apart from a user's.
  QCoreApplication::setOrganizationName("attnlab-tests");
  QCoreApplication::setApplicationName("attnlab-gui-tests");
  return *qobject_cast<QApplication*>(QCoreApplication::instance());
}

std::filesystem::path screenshot_dir() {
  const char* env = std::getenv("ATTNLAB_SCREENSHOT_DIR");
  std::filesystem::path dir = env && *env ? env : std::filesystem::current_path() / "gui-screenshots";
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path save_screenshot(const QImage& image, const std::string& name) {
  const auto path = screenshot_dir() / (name + ".png");
  REQUIRE(image.save(QString::fromStdString(path.string())));
  return path;
}

int distinct_colors(const QImage& image, int limit) {
  QSet<QRgb> seen;
  const QImage img = image.convertToFormat(QImage::Format_RGB32);
  for (int y = 0; y < img.height(); y += 3)
    for (int x = 0; x < img.width(); x += 3) {
      seen.insert(img.pixel(x, y));
      if (seen.size() >= limit) return limit;
    }
  return seen.size();
}

void open_stories(gui::MainWindow& w) {
  const auto path = shared_file("models/stories260K/stories260K.bin");
  w.open_model(QString::fromStdString(path.string()));
  REQUIRE(w.jobs()->wait_idle());
  if (w.error_box() && w.error_box()->isVisible()) FAIL("error dialog: " << w.error_box()->text().toStdString());
  REQUIRE(w.model().model);
}

void type_prompt(gui::MainWindow& w, const QString& prompt) {
  w.prompt_panel()->editor()->clear();
  QTest::keyClicks(w.prompt_panel()->editor(), prompt);
  QTest::qWait(400);  // the prompt is analysed once typing pauses
  REQUIRE(w.wait_idle());
  if (w.error_box() && w.error_box()->isVisible()) FAIL("error dialog: " << w.error_box()->text().toStdString());
  REQUIRE(w.capture());
}

}  // namespace attnlab::test
