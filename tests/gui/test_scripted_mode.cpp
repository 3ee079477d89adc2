// The scripted mode (issue 19 item 4): the command line parses into options with clear errors,
// and the app itself renders and exits without a display.
#include <QImage>
#include <QProcess>
#include <catch2/catch.hpp>

#include "core/tensor/error.h"
#include "gui/figure_export.h"
#include "gui/script_options.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;

namespace {
ScriptOptions parse(QStringList args) {
  args.prepend("attnlab-gui");
  return parse_script_options(args);
}

// Runs attnlab-gui offscreen; returns the exit code, stdout and stderr in `out`.
int run_app(const QStringList& args, QString& out) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "offscreen");
  env.insert("OMP_NUM_THREADS", "1");
  p.setProcessEnvironment(env);
  p.start(ATTNLAB_GUI_BINARY, args);
  REQUIRE(p.waitForFinished(120000));
  out = QString::fromUtf8(p.readAllStandardOutput()) + QString::fromUtf8(p.readAllStandardError());
  return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}
}  // namespace

TEST_CASE("scripted mode: options, and clear errors for bad ones", "[gui][script]") {
  const ScriptOptions o = parse({"m.bin",          "--prompt", "Once upon", "--head",    "l5h3",
                                 "--compare-head", "L1H2",     "--metric",  "induction", "--export",
                                 "f.pdf",          "--view",   "compare",   "--size",    "double",
                                 "--dpi",          "150",      "--log",     "--query",   "4"});
  CHECK(o.model == "m.bin");
  CHECK(o.prompt == "Once upon");
  REQUIRE(o.head);
  CHECK(o.head->layer == 5);
  CHECK(o.head->head == 3);
  REQUIRE(o.compare_head);
  CHECK(o.compare_head->layer == 1);
  CHECK(o.width_in == kDoubleColumnIn);
  CHECK(o.dpi == 150);
  CHECK(o.log_scale);
  CHECK(o.query == 4);
  CHECK(o.scripted());
  CHECK(parse({"m.bin"}).width_in == kSingleColumnIn);
  CHECK(!parse({"m.bin"}).scripted());
  CHECK(parse({"--help"}).help);

  CHECK_THROWS_WITH(parse({"m.bin", "--head", "5.3"}), Catch::Contains("expected L<layer>H<head>"));
  CHECK_THROWS_WITH(parse({"m.bin", "--view", "pie", "--export", "x.png"}),
                    Catch::Contains("--view 'pie'"));
  CHECK_THROWS_WITH(parse({"m.bin", "--dpi", "7"}), Catch::Contains("--dpi"));
  CHECK_THROWS_WITH(parse({"m.bin", "--size", "huge"}), Catch::Contains("--size 'huge'"));
  CHECK_THROWS_WITH(parse({"--screenshot", "x.png"}), Catch::Contains("need a MODEL"));
  CHECK_THROWS_WITH(parse({"m.bin", "--prompt", "a", "--task", "mqar"}),
                    Catch::Contains("choose one"));
  CHECK_THROWS_WITH(parse({"m.bin", "--view", "compare", "--export", "x.pdf"}),
                    Catch::Contains("--compare"));
  CHECK_THROWS_WITH(parse({"m.bin", "--bogus"}), Catch::Contains("bogus"));
}

TEST_CASE(
    "scripted mode: attnlab-gui --help exits 0; a screenshot and a comparison export without a "
    "display",
    "[gui][script]") {
  QString out;
  CHECK(run_app({"--help"}, out) == 0);
  CHECK(out.contains("--screenshot"));
  CHECK(out.contains("--export"));

  const auto dir = test::temp_dir("gui-script");
  const QString model =
      QString::fromStdString(test::shared_file("models/stories260K/stories260K.bin").string());
  const QString shot = QString::fromStdString((dir / "window.png").string());
  const QString fig = QString::fromStdString((dir / "compare.png").string());
  const int rc =
      run_app({model, "--prompt", "Once upon a time, Lily saw a cat. Lily saw a dog.", "--head",
               "L2H3", "--compare-head", "L1H0", "--metric", "previous", "--screenshot", shot,
               "--export", fig, "--view", "compare", "--size", "double", "--dpi", "150"},
              out);
  INFO(out.toStdString());
  REQUIRE(rc == 0);
  const QImage window(shot), figure(fig);
  REQUIRE(!window.isNull());
  CHECK(window.width() >= 800);
  CHECK(test::distinct_colors(window) > 20);
  REQUIRE(!figure.isNull());
  // 7 in at 150 dpi, A | B | A - B; as high as the square maps and their labels need, which
  // leaves each map well over a quarter of the width's third.
  CHECK(figure.width() == int(int(7.0 * 96 + 0.5) * 150 / 96.0));
  CHECK(figure.height() > figure.width() / 4);
  CHECK(figure.height() < figure.width() / 2);
  test::save_screenshot(window, "script_window");
  test::save_screenshot(figure, "script_export_compare");

  // Errors reach stderr with a non-zero exit: a head the model does not have.
  CHECK(run_app({model, "--prompt", "Hi", "--head", "L9H0", "--screenshot", shot}, out) == 1);
  CHECK(out.contains("the model has 5 layers"));
  CHECK(run_app({model, "--head", "nonsense"}, out) == 2);
}
