// Training from the GUI (live curves, pause, stop, runs in the results store), the sweep browser
// on that store, and screenshots of every main view for a person to look at.
#include <QTableWidget>
#include <QTest>
#include <catch2/catch.hpp>
#include <qcustomplot.h>

#include "experiments/store/store.h"
#include "gui/attention_map_view.h"
#include "gui/head_grid_view.h"
#include "gui/job_runner.h"
#include "gui/main_window.h"
#include "gui/model_loading.h"
#include "gui/prompt_panel.h"
#include "gui/sweep_browser.h"
#include "gui/token_view.h"
#include "gui/train_panel.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;

namespace {
// Pastes a long text at once (typing it key by key would only slow the test down).
void paste_prompt(MainWindow& w, const QString& text) {
  w.prompt_panel()->set_prompt(text);
  QTest::qWait(400);
  REQUIRE(w.wait_idle());
}

TrainRequest small_run(const std::string& store, int steps) {
  TrainRequest r;
  r.task = "bigram_backcopy";
  r.size = "tiny";
  r.steps = steps;
  r.batch = 4;
  r.seq_len = 32;
  r.probe_every = 10;
  r.lr = 3e-3f;
  r.store = store;
  return r;
}
}  // namespace

TEST_CASE("train session: live loss and sink curves, stored run, checkpoint opens", "[gui]") {
  test::gui_app();
  const auto dir = test::temp_dir("gui-train");
  const std::string store_path = (dir / "gui.sqlite").string();
  TrainSession s(small_run(store_path, 30));
  std::vector<double> losses;
  std::vector<qint64> probes;
  int L = 0, H = 0;
  QString status, checkpoint;
  QObject::connect(&s, &TrainSession::step_done, [&](qint64, double loss) { losses.push_back(loss); });
  QObject::connect(&s, &TrainSession::probe_done, [&](qint64 step, const std::vector<double>& v, int l, int h) {
    probes.push_back(step);
    L = l;
    H = h;
    CHECK(int(v.size()) == l * h);
    for (double a : v) CHECK((a >= 0 && a <= 1 + 1e-6));
  });
  std::vector<std::tuple<qint64, double, double>> scores;
  QObject::connect(&s, &TrainSession::scores_done, [&](qint64 step, double ind, double acc) {
    scores.emplace_back(step, ind, acc);
  });
  QObject::connect(&s, &TrainSession::finished, [&](const QString& st, const QString& err, const QString& ck) {
    status = st;
    checkpoint = ck;
    if (!err.isEmpty()) FAIL(err.toStdString());
  });
  s.start();
  REQUIRE(s.wait());
  CHECK(status == "done");
  REQUIRE(losses.size() == 30);
  CHECK(probes == std::vector<qint64>{0, 10, 20, 30});
  // Live induction score and task accuracy beside the loss, at every probe.
  REQUIRE(scores.size() == 4);
  for (auto [step, ind, acc] : scores) {
    CHECK((std::isnan(ind) || (ind >= 0 && ind <= 1 + 1e-6)));
    CHECK((acc >= 0 && acc <= 1));  // bigram_backcopy reports an accuracy
  }
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += losses[i], last += losses[25 + i];
  CHECK(last < first);

  exp::Store store(store_path, true);
  const exp::RunRecord r = store.run(s.run_id());
  CHECK(r.status == "done");
  CHECK(store.scalars(r.id, "loss").size() == 30);
  CHECK(store.head_metrics(r.id, "sink_alpha1").size() == size_t(4 * L * H));
  // The trained checkpoint opens in the explorer with the task's vocabulary.
  const OpenedModel m = open_model_file(checkpoint.toStdString());
  CHECK(m.model->config().n_heads == H);
}

TEST_CASE("train panel: pause holds the step, stop ends the run as interrupted", "[gui]") {
  test::gui_app();
  const auto dir = test::temp_dir("gui-train-stop");
  const std::string store_path = (dir / "gui.sqlite").string();
  TrainPanel panel;
  panel.set_request(small_run(store_path, 100000));
  panel.start();
  TrainSession* s = panel.session();
  REQUIRE(s);
  qint64 steps = 0;
  QObject::connect(s, &TrainSession::step_done, [&](qint64 step, double) { steps = step; });
  QTRY_VERIFY_WITH_TIMEOUT(steps >= 2, 30000);
  panel.toggle_pause();
  QTRY_VERIFY_WITH_TIMEOUT(s->waiting(), 30000);
  QTest::qWait(50);  // deliver the paused step's own report
  const qint64 held = steps;
  QTest::qWait(300);
  CHECK(steps == held);
  CHECK(s->waiting());
  panel.toggle_pause();
  QTRY_VERIFY_WITH_TIMEOUT(steps > held, 30000);
  panel.stop();
  REQUIRE(s->wait());
  exp::Store store(store_path, true);
  CHECK(store.run(s->run_id()).status == "interrupted");
  CHECK(store.scalars(s->run_id(), "loss").size() == size_t(steps));
}

TEST_CASE("screenshots of the main views, and the sweep browser on a store", "[gui][screenshots]") {
  test::gui_app();
  const auto dir = test::temp_dir("gui-shots");
  const std::string store_path = (dir / "study.sqlite").string();
  for (const char* attention : {"softmax", "sigmoid(bias=-2)"}) {
    TrainRequest r = small_run(store_path, 20);
    r.attention = attention;
    TrainSession s(r);
    s.start();
    REQUIRE(s.wait());
  }

  MainWindow w;
  w.resize(1500, 950);
  w.show();
  test::open_stories(w);
  test::type_prompt(w, "Once upon a time, there was a little girl named Lily. She loved to play outside. "
                       "One day, Lily saw a big dog in the park.");
  w.select_head(1, 4);
  w.token_view()->set_query(w.capture()->T() - 1);
  REQUIRE(w.wait_idle());
  REQUIRE(w.token_view()->wait_idle());
  QTest::qWait(100);  // let queued replots (labels that fit the final layout) land
  const QImage main_shot = w.grab().toImage();
  test::save_screenshot(main_shot, "main_window");
  CHECK(test::distinct_colors(main_shot) > 30);
  const QImage map_shot = w.map_view()->grab().toImage();
  test::save_screenshot(map_shot, "attention_map");
  CHECK(test::distinct_colors(map_shot) > 30);
  test::save_screenshot(w.grid_view()->grab().toImage(), "head_grid");
  // Observed / chance: each cell is the metric over what uniform attention on the same prompt and
  // mask scores (a layer-wide level, from the analysis engine's uniform pass).
  {
    HeadGridView* grid = w.grid_view();
    const int m = grid->grid().index_of("previous-token");
    REQUIRE(m >= 0);
    grid->select_metric("previous-token");
    grid->set_relative_to_chance(true);
    const double chance = grid->grid().chance_at(m, 1);
    REQUIRE(chance > 0);
    CHECK(grid->shown_value(m, 1, 4) == Approx(grid->grid().at(m, 1, 4) / chance));
    test::save_screenshot(grid->grab().toImage(), "head_grid_over_chance");
    grid->set_relative_to_chance(false);
    CHECK(grid->shown_value(m, 1, 4) == grid->grid().at(m, 1, 4));
  }
  test::save_screenshot(w.token_view()->grab().toImage(), "token_view");
  w.map_view()->set_log_scale(true);
  w.compare_head(4, 1);
  REQUIRE(w.wait_idle());
  QTest::qWait(100);
  test::save_screenshot(w.grab().toImage(), "compare_log");

  // What a figure looks like when exported (PNG at 300 dpi, paper style).
  w.export_view(w.map_view()->plot(), w.map_view()->csv(),
                QString::fromStdString((test::screenshot_dir() / "export_attention_map.png").string()));

  // A long prompt: labels thin out instead of overlapping, the map stays one image.
  QString story;
  for (int i = 0; i < 19; ++i)
    story += "Once upon a time, there was a little girl named Lily. She loved to play outside. ";
  w.set_compare(false);
  w.map_view()->set_log_scale(false);
  paste_prompt(w, story);
  CHECK(w.capture()->T() > 450);
  w.select_head(2, 3);
  REQUIRE(w.wait_idle());
  QTest::qWait(100);
  test::save_screenshot(w.map_view()->grab().toImage(), "attention_map_long");

  // Training tab after a short run.
  TrainPanel* train = w.train_panel();
  train->set_request(small_run((dir / "panel.sqlite").string(), 40));
  train->start();
  REQUIRE(train->session()->wait());
  train->resize(1200, 700);
  QTest::qWait(100);
  test::save_screenshot(train->grab().toImage(), "train_panel");

  SweepBrowser* sweeps = w.sweep_browser();
  sweeps->open_store(QString::fromStdString(store_path));
  CHECK(sweeps->visible_runs() == 2);
  sweeps->set_axes("model.attention", "loss");
  CHECK(sweeps->csv().count('\n') == 3);
  // Filter by the value exactly as the store writes it (the table shows it).
  QString softmax_value;
  for (int row = 0; row < sweeps->table()->rowCount(); ++row)
    for (int col = 0; col < sweeps->table()->columnCount(); ++col) {
      const QString header = sweeps->table()->horizontalHeaderItem(col)->text();
      const QString text = sweeps->table()->item(row, col)->text();
      if (header == "model.attention" && text.contains("softmax")) softmax_value = text;
    }
  REQUIRE(!softmax_value.isEmpty());
  sweeps->set_filter("model.attention=" + softmax_value);
  CHECK(sweeps->visible_runs() == 1);
  sweeps->set_filter("");
  sweeps->resize(1200, 700);
  QTest::qWait(100);
  test::save_screenshot(sweeps->grab().toImage(), "sweep_browser");
  INFO("screenshots in " << test::screenshot_dir());
  CHECK(std::filesystem::exists(test::screenshot_dir() / "sweep_browser.png"));
}
