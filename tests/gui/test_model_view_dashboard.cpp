// The model view (issue 19 item 2) and head dashboards (item 3).
#include <qcustomplot.h>

#include <QSignalSpy>
#include <QTest>
#include <catch2/catch.hpp>
#include <fstream>

#include "analysis/row_metrics.h"
#include "gui/attention_capture.h"
#include "gui/attention_map_view.h"
#include "gui/head_dashboard.h"
#include "gui/head_dashboard_scan.h"
#include "gui/job_runner.h"
#include "gui/main_window.h"
#include "gui/map_statistics.h"
#include "gui/model_view.h"
#include "gui/pattern_image.h"
#include "gui/prompt_panel.h"
#include "gui/token_codec.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;

namespace {
// A random 12 x 12 model at context 512 (small d_head keeps the test fast).
std::shared_ptr<Transformer> twelve_by_twelve() {
  ModelConfig c;
  c.vocab_size = 64;
  c.context = 512;
  c.d_model = 96;
  c.n_layers = 12;
  c.n_heads = 12;
  c.n_kv_heads = 12;
  c.d_ff = 96;
  auto m = std::make_shared<Transformer>(c);
  m->init_weights(3);
  return m;
}
}  // namespace

TEST_CASE("model view: 144 thumbnails at T = 512 on one colour scale, click opens a head",
          "[gui][model]") {
  test::gui_app();
  auto model = twelve_by_twelve();
  auto run = CapturedForward::run(model, test::random_tokens(512, 64, 5));
  ModelView view;
  view.resize(900, 900);
  view.show();
  view.set_source(run);
  REQUIRE(view.wait_idle(120000));
  const ModelThumbnails& th = view.thumbnails();
  REQUIRE(th.images.size() == 144);
  CHECK(th.side == 64);
  for (const QImage& img : th.images) CHECK((img.width() == 64 && img.height() == 64));
  // One scale for all: the largest of the heads' own tops, each as the map view computes it.
  const double top = *std::max_element(th.head_top.begin(), th.head_top.end());
  CHECK(th.scale.hi == top);
  const HeadPattern p = run->pattern(7, 4);
  CHECK(th.head_top[7 * 12 + 4] == Approx(auto_scale(p, false).hi).epsilon(1e-6));
  // Thumbnail pixel (y, x) is the max |w| of its 8 x 8 block, coloured on the shared scale.
  const ColorIndex index(th.scale);
  float block = 0;
  for (int t = 80; t < 88; ++t)
    for (int j = 16; j < 24; ++j) block = std::max(block, std::abs(p.at(t, j)));
  CHECK(th.at(7, 4).pixelIndex(2, 10) == index(block));
  CHECK(th.at(7, 4).pixelIndex(63, 0) == 0);  // the future: grey

  QSignalSpy clicks(&view, &ModelView::head_clicked);
  view.plot()->replot(QCustomPlot::rpImmediateRefresh);
  QTest::mouseClick(view.plot(), Qt::LeftButton, Qt::NoModifier, view.cell_center(9, 2));
  REQUIRE(clicks.size() == 1);
  CHECK(clicks[0][0].toInt() == 9);
  CHECK(clicks[0][1].toInt() == 2);
  test::save_screenshot(view.grab().toImage(), "model_view_12x12_T512");

  // Cancel stops the background work.
  view.set_source(run);
  view.jobs()->cancel();
  REQUIRE(view.wait_idle());
}

TEST_CASE("model view in the window: stories260K, click opens the head in Explore",
          "[gui][model]") {
  test::gui_app();
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  test::open_stories(w);
  test::type_prompt(w, "Once upon a time, Lily saw a cat. Lily saw a dog.");
  REQUIRE(w.model_view()->thumbnails().images.size() == 40);
  w.tabs()->setCurrentWidget(w.model_view());
  QApplication::processEvents();
  w.model_view()->plot()->replot(QCustomPlot::rpImmediateRefresh);
  test::save_screenshot(w.grab().toImage(), "model_view_window");
  QTest::mouseClick(w.model_view()->plot(), Qt::LeftButton, Qt::NoModifier,
                    w.model_view()->cell_center(4, 6));
  REQUIRE(w.wait_idle());
  REQUIRE(w.map_view()->pattern());
  CHECK(w.map_view()->pattern()->layer == 4);
  CHECK(w.map_view()->pattern()->head == 6);
  CHECK(w.tabs()->currentIndex() == 0);
}

TEST_CASE("dashboard: row metrics follow the analysis library", "[gui][dashboard]") {
  const float row[4] = {0.5f, 0.1f, 0.3f, 0.1f};
  const int32_t tokens[4] = {7, 9, 7, 7};
  double v;
  REQUIRE(row_metric(RowMetric::kSinkMass, row, tokens, 3, v));
  CHECK(v == Approx(0.5));
  // Query token 7 at t = 3: earlier 7s at j = 0 and 2; keys j + 1 < 3 that follow them: key 1.
  REQUIRE(row_metric(RowMetric::kInduction, row, tokens, 3, v));
  CHECK(v == Approx(0.1));
  const int32_t no_repeat[4] = {1, 2, 3, 4};
  CHECK(!row_metric(RowMetric::kInduction, row, no_repeat, 3, v));
  REQUIRE(row_metric(RowMetric::kEntropy, row, tokens, 3, v));
  CHECK(v == Approx(row_entropy(row, 4) / std::log(4.0)));
  CHECK(!row_metric(RowMetric::kEntropy, row, tokens, 0, v));
}

TEST_CASE("dashboard: scanning stories text ranks rows by sink mass and shows their context",
          "[gui][dashboard]") {
  test::gui_app();
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  test::open_stories(w);
  HeadDashboard* d = w.dashboard();
  w.select_head(1, 2);
  // A small text file as the corpus: every window's rows are scored, the best kept.
  const auto dir = test::temp_dir("gui-dashboard");
  {
    std::ofstream f(dir / "stories.txt");
    for (int i = 0; i < 120; ++i)
      f << "Once upon a time there was a little girl named Lily. She liked to play with her cat. "
           "The cat was "
           "happy. Lily and the cat played in the park every day. ";
  }
  d->set_source(QString::fromStdString((dir / "stories.txt").string()));
  d->set_metric(RowMetric::kSinkMass);
  d->set_windows(6);
  d->start_scan();
  REQUIRE(d->wait_idle());
  const DashboardScan& s = d->result();
  REQUIRE(s.windows == 6);
  REQUIRE(s.hits.size() == 12);
  CHECK(d->shown_hits() == 12);
  for (size_t i = 1; i < s.hits.size(); ++i) CHECK(s.hits[i - 1].score >= s.hits[i].score);
  // Each hit's score is its row's sink mass in a fresh capture of that window.
  for (const DashboardHit& h : s.hits) {
    CHECK(h.weights.size() == h.context.size());
    CHECK(int(h.context.size()) == h.t - h.first + 1);
    if (h.first == 0) CHECK(h.score == Approx(h.weights[0]).margin(1e-7));
  }
  w.tabs()->setCurrentWidget(d);
  QApplication::processEvents();
  test::save_screenshot(w.grab().toImage(), "dashboard_sink");

  // Smallest first: the rows that ignore the first token, ascending, each below every row of the
  // largest-first list's tail it could have displaced.
  const double largest_tail = s.hits.back().score;
  d->set_lowest_first(true);
  d->start_scan();
  REQUIRE(d->wait_idle());
  const DashboardScan& low = d->result();
  REQUIRE(low.hits.size() == 12);
  for (size_t i = 1; i < low.hits.size(); ++i) CHECK(low.hits[i - 1].score <= low.hits[i].score);
  CHECK(low.hits.back().score <= largest_tail);
  for (const DashboardHit& h : low.hits)
    if (h.first == 0) CHECK(h.score == Approx(h.weights[0]).margin(1e-7));
  d->set_lowest_first(false);

  // Induction on a task, then cancel a long scan.
  d->set_source("induction(vocab=64)");
  d->set_metric(RowMetric::kInduction);
  d->set_windows(4);
  d->start_scan();
  REQUIRE(d->wait_idle());
  CHECK(d->result().windows == 4);
  d->set_windows(100000);
  d->start_scan();
  QTest::qWait(50);
  d->cancel();
  REQUIRE(d->wait_idle());
  CHECK(d->result().windows == 4);  // the cancelled scan left the last result

  // A missing file is an error in the summary, not a crash.
  d->set_source("corpora/none.txt");
  d->set_windows(2);
  d->start_scan();
  REQUIRE(d->wait_idle());
}

TEST_CASE("task samples are drawn at the model's context, not cut to it", "[gui]") {
  test::gui_app();
  PromptPanel panel;
  panel.set_model("a 48-token model", make_id_codec(64), 48, -1);
  panel.draw_task_sample("induction(vocab=32)");
  CHECK(panel.tokens().size() == 48);
  CHECK(panel.labels().size() == 48);
  panel.set_model("a 32-token model", make_id_codec(64), 32, -1);
  panel.draw_task_sample("copy");  // copy's len must be odd: the longest that fits, 31
  CHECK(panel.tokens().size() == 31);
}
