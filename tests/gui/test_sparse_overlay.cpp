// The sparse-pattern overlay (issue 16 item 5) on the real stories260K model: the map outlines
// the keys a pattern keeps in each row, the read-out says what it keeps and drops, and the head
// grid gains the pattern's recall per head.
#include <QMessageBox>
#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>

#include "gui/attention_map_view.h"
#include "gui/cell_outlines.h"
#include "gui/head_grid_view.h"
#include "gui/main_window.h"
#include "gui/sparse_overlay.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;

TEST_CASE("sparse overlay: kept keys outlined, kept and dropped mass, recall per head on the grid",
          "[gui][sparse]") {
  test::gui_app();
  MainWindow w;
  w.resize(1500, 900);
  w.show();
  test::open_stories(w);
  test::type_prompt(w, "Lily saw a cat. The cat saw Lily. Lily was happy.");
  w.select_head(2, 3);
  REQUIRE(w.wait_idle());
  AttentionMapView* m = w.map_view();
  REQUIRE(m->pattern());
  const HeadPattern& p = *m->pattern();

  // topk(k=4): in every row, the 4 largest weights (ties to the earlier key), and the row's kept
  // mass is their sum.
  m->set_pattern_spec("topk(k=4)");
  REQUIRE(w.wait_idle());
  const auto& rows = m->overlay()->rows();
  REQUIRE(rows.size() == size_t(p.T));
  double kept_sum = 0;
  for (int t = 0; t < p.T; ++t) {
    std::vector<int> order(size_t(t) + 1);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return p.at(t, a) > p.at(t, b); });
    order.resize(std::min<size_t>(4, order.size()));
    std::sort(order.begin(), order.end());
    CHECK(rows[size_t(t)] == order);
    double kept = 0;
    for (int j : order) kept += p.at(t, j);
    kept_sum += kept;
    if (t == p.T - 1) {
      const QString hover = m->describe_cell(t, order[0]);
      CHECK(hover.contains("kept by the sparse pattern"));
      CHECK(hover.contains(QString::number(kept, 'f', 3)));
    }
  }
  // The grid's new metric: this head's mean kept mass; chance = the mean kept share of keys.
  HeadGridView* g = w.grid_view();
  CHECK(g->metric() == "recall: topk(k=4)");
  const int metric = g->grid().index_of("recall: topk(k=4)");
  REQUIRE(metric >= 0);
  CHECK(g->grid().at(metric, 2, 3) == Approx(kept_sum / p.T).margin(1e-5));
  double uniform = 0;  // mean over rows of |S_t| / n_t
  for (int t = 0; t < p.T; ++t) uniform += double(std::min(4, t + 1)) / (t + 1);
  CHECK(g->grid().chance_at(metric, 2) == Approx(uniform / p.T).margin(1e-9));
  for (int l = 0; l < g->grid().n_layers; ++l)
    for (int h = 0; h < g->grid().n_heads; ++h) {
      CHECK(g->grid().at(metric, l, h) >=
            g->grid().chance_at(metric, l) - 1e-9);  // top-k beats any set that size
      CHECK(g->grid().at(metric, l, h) <= 1 + 1e-9);
    }
  test::save_screenshot(w.grab().toImage(), "sparse_overlay_topk");

  // Another head follows; window(size=4,sinks=1) keeps key 0 and the 4 most recent.
  m->set_pattern_spec("window(size=4,sinks=1)");
  w.select_head(1, 0);
  REQUIRE(w.wait_idle());
  const auto& wrows = m->overlay()->rows();
  REQUIRE(wrows.size() == size_t(p.T));
  for (int t = 0; t < p.T; ++t) {
    std::vector<int> want;
    for (int j = 0; j <= t; ++j)
      if (j < 1 || t - j < 4) want.push_back(j);
    CHECK(wrows[size_t(t)] == want);
  }
  const QString dropped = m->describe_cell(p.T - 1, 2);
  CHECK(dropped.contains("dropped by the sparse pattern"));

  // A bad spec is an error in a dialog; the overlay is cleared, the app keeps running.
  m->set_pattern_spec("topk(q=3)");
  REQUIRE(w.wait_idle());
  REQUIRE(w.error_box());
  CHECK(w.error_box()->text().contains("topk"));
  w.error_box()->close();
  CHECK(m->overlay()->rows().empty());
  // None clears it.
  m->set_pattern_spec("topk(k=2)");
  REQUIRE(w.wait_idle());
  CHECK(!m->overlay()->rows().empty());
  m->set_pattern_spec("");
  CHECK(m->overlay()->rows().empty());
}
