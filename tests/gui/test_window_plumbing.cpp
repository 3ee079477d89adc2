// The plumbing that keeps the window responsive and convenient: the job runner (errors,
// cancel, newest request wins), drag and drop, and the recent-files list.
#include <QDropEvent>
#include <QMimeData>
#include <QSettings>
#include <QTest>
#include <QUrl>
#include <catch2/catch.hpp>
#include <thread>

#include "core/tensor/error.h"
#include "gui/attention_capture.h"
#include "gui/job_runner.h"
#include "gui/main_window.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;

TEST_CASE("job runner: errors reach the UI thread, cancel stops work, the newest job wins", "[gui]") {
  test::gui_app();
  JobRunner jobs;
  QString error;
  bool cancelled = false, ran = false;
  jobs.submit("fails", [](JobControl&) { throw Error("bad file 'x.gguf'"); },
              [&](const QString& e, bool c) { error = e, cancelled = c; });
  REQUIRE(jobs.wait_idle());
  CHECK(error == "bad file 'x.gguf'");
  CHECK(!cancelled);

  // A job that polls its cancel flag, then a newer job submitted while it runs.
  std::atomic<bool> started{false};
  int finished_first = 0;
  jobs.submit(
      "slow",
      [&](JobControl& c) {
        started = true;
        while (!c.cancel) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        throw Cancelled{};
      },
      [&](const QString&, bool c) { finished_first = c ? 1 : 2; });
  QTRY_VERIFY_WITH_TIMEOUT(started.load(), 10000);
  jobs.submit("newer", [&](JobControl&) { ran = true; }, [&](const QString& e, bool c) { error = e, cancelled = c; });
  REQUIRE(jobs.wait_idle());
  CHECK(finished_first == 1);  // the old job was cancelled, not finished
  CHECK(ran);
  CHECK(error.isEmpty());
  CHECK(!cancelled);

  // The Cancel button path.
  started = false;
  jobs.submit(
      "slow",
      [&](JobControl& c) {
        started = true;
        while (!c.cancel) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      },
      [&](const QString&, bool c) { cancelled = c; });
  QTRY_VERIFY_WITH_TIMEOUT(started.load(), 10000);
  jobs.cancel();
  REQUIRE(jobs.wait_idle());
  CHECK(cancelled);
}

TEST_CASE("window: a dropped model file opens and joins the recent files", "[gui]") {
  test::gui_app();
  QSettings().remove("recent");
  MainWindow w;
  w.show();
  const QString path = QString::fromStdString(test::shared_file("models/stories260K/stories260K.bin").string());
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(path)});
  QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &enter);
  CHECK(enter.isAccepted());
  QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &drop);
  REQUIRE(w.wait_idle());
  REQUIRE(w.model().model);
  CHECK(QString::fromStdString(w.model().path) == path);
  CHECK(QSettings().value("recent").toStringList().value(0) == path);
}
