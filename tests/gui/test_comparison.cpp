// Comparison, tokens and legends, exports at paper sizes, and the layout (issue 19 items 1, 5, 6)
// on the real stories260K model.
#include <qcustomplot.h>

#include <QDockWidget>
#include <QMouseEvent>
#include <QTabWidget>
#include <QTest>
#include <catch2/catch.hpp>

#include "analysis/head_stats.h"
#include "gui/attention_map_view.h"
#include "gui/figure_export.h"
#include "gui/head_grid_view.h"
#include "gui/main_window.h"
#include "gui/pattern_image.h"
#include "gui/prompt_panel.h"
#include "gui/sweep_browser.h"
#include "gui/token_view.h"
#include "gui/train_panel.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;

TEST_CASE("comparison: equal square maps, one colour scale, A - B, B marked and in the token view",
          "[gui][compare]") {
  test::gui_app();
  MainWindow w;
  w.resize(1500, 900);
  w.show();
  test::open_stories(w);
  test::type_prompt(w, "Lily saw a cat. The cat saw Lily.");
  w.select_head(2, 3);
  w.compare_head(1, 0);
  REQUIRE(w.wait_idle());
  REQUIRE(w.token_view()->wait_idle());
  QApplication::processEvents();
  AttentionMapView* a = w.map_view();
  AttentionMapView* b = w.compare_view();
  AttentionMapView* d = w.difference_view();
  REQUIRE(b->isVisible());
  REQUIRE(d->isVisible());
  REQUIRE(a->pattern());
  REQUIRE(b->pattern());
  CHECK(b->pattern()->layer == 1);
  CHECK(b->pattern()->head == 0);

  // Equal sizes and square cells.
  a->plot()->replot(QCustomPlot::rpImmediateRefresh);
  b->plot()->replot(QCustomPlot::rpImmediateRefresh);
  d->plot()->replot(QCustomPlot::rpImmediateRefresh);
  const QRect ra = a->map_rect(), rb = b->map_rect(), rd = d->map_rect();
  INFO("A " << ra.width() << "x" << ra.height() << ", B " << rb.width() << "x" << rb.height()
            << ", A-B " << rd.width() << "x" << rd.height());
  CHECK(ra.size() == rb.size());
  CHECK(ra.size() == rd.size());
  CHECK(std::abs(ra.width() - ra.height()) <= 1);
  CHECK(ra.width() > 100);

  // One colour scale: both at the larger of the two heads' own tops.
  CHECK(a->scale().hi == b->scale().hi);
  CHECK(a->scale().hi == std::max(a->own_top(), b->own_top()));
  CHECK(a->scale().log == b->scale().log);

  // The difference map is exactly A - B.
  REQUIRE(d->difference_mode());
  auto pd = d->pattern();
  REQUIRE(pd);
  const auto& pa = *a->pattern();
  const auto& pb = *b->pattern();
  REQUIRE(pd->T == pa.T);
  double worst = 0;
  for (size_t i = 0; i < pd->w.size(); ++i)
    worst = std::max(worst, std::abs(double(pd->w[i]) - (pa.w[i] - pb.w[i])));
  CHECK(worst <= 1e-6);
  const QImage& dimg = d->image();
  CHECK(dimg.pixel(pa.T - 1, 0) == diverging_color_table()[0]);  // masked: grey
  CHECK(d->scale().lo == -d->scale().hi);

  // B is marked in the grid and drawn in the token view beside A.
  CHECK(w.grid_view()->compare_marked());
  const int t = pa.T - 1;
  REQUIRE(w.token_view()->second_weights().size() == size_t(t + 1));
  for (int j = 0; j <= t; ++j) {
    CHECK(w.token_view()->weights()[j] == Approx(pa.at(t, j)).margin(1e-6));
    CHECK(w.token_view()->second_weights()[j] == Approx(pb.at(t, j)).margin(1e-6));
  }
  CHECK(w.token_view()->title().contains("L2 H3"));
  CHECK(w.token_view()->title().contains("L1 H0"));

  // A shared log setting.
  w.set_log_scale(true);
  REQUIRE(w.wait_idle());
  CHECK(a->scale().log);
  CHECK(b->scale().log);
  CHECK(a->scale().hi == b->scale().hi);
  test::save_screenshot(w.grab().toImage(), "compare_window_log");
  w.set_log_scale(false);
  REQUIRE(w.wait_idle());

  // A linked crosshair: hovering a cell of A outlines the same cell in B and A - B.
  const QPoint cell(int(a->plot()->axisRect(0)->axis(QCPAxis::atTop)->coordToPixel(2)),
                    int(a->plot()->axisRect(0)->axis(QCPAxis::atLeft)->coordToPixel(5)));
  QMouseEvent move(QEvent::MouseMove, QPointF(cell), a->plot()->mapToGlobal(QPointF(cell)),
                   Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(a->plot(), &move);
  CHECK(a->crosshair_shown());
  CHECK(b->crosshair_shown());
  CHECK(d->crosshair_shown());
  test::save_screenshot(w.grab().toImage(), "compare_window");

  // Export at a fixed aspect, whatever the window: 3.5 in at 300 dpi, A | B | A - B.
  const auto dir = test::temp_dir("gui-compare");
  const QString png = QString::fromStdString((dir / "cmp.png").string());
  w.resize(900, 1400);  // a tall window must not squash the figure
  QApplication::processEvents();
  const ComparisonLayout single = w.export_comparison(png);
  const QImage fig(png);
  REQUIRE(!fig.isNull());
  CHECK(fig.width() == int(int(3.5 * 96 + 0.5) * 300 / 96.0));
  // One column holds A | B above A - B, all one size.
  REQUIRE(single.panels.size() == 3);
  CHECK(single.side >= 64);  // two thirds of an inch: token labels at every 5th position
  CHECK(single.panels[2].top() >= single.panels[0].bottom());
  CHECK(fig.height() == int((single.panels[2].bottom() + 1) * 300 / 96.0));
  // Two columns: the three in a row, as high as the maps need (well under the width).
  w.set_export_size(FigureSize{kDoubleColumnIn, 0, 150});
  const ComparisonLayout wide = w.export_comparison(png);
  CHECK(wide.side >= 96);
  CHECK(wide.panels[1].top() == 0);
  CHECK(wide.panels[2].top() == 0);
  CHECK(QImage(png).height() < QImage(png).width() / 2);
  w.set_export_size(FigureSize{});
  test::save_screenshot(fig, "export_comparison");
  w.export_comparison(QString::fromStdString((dir / "cmp.pdf").string()));
  w.export_comparison(QString::fromStdString((dir / "cmp.svg").string()));
  CHECK(std::filesystem::file_size(dir / "cmp.pdf") > 1000);
  CHECK(std::filesystem::file_size(dir / "cmp.svg") > 1000);
  CHECK(std::filesystem::exists(dir / "cmp.csv"));

  // Closing the comparison clears B's mark and restores A's own scale.
  w.set_compare(false);
  REQUIRE(w.wait_idle());
  CHECK(!w.grid_view()->compare_marked());
  CHECK(a->scale().hi == a->own_top());
  CHECK(w.token_view()->second_weights().empty());
}

TEST_CASE(
    "tokens and legends: every token labelled when it fits, position:«token», titled exports at "
    "paper sizes",
    "[gui][tokens]") {
  test::gui_app();
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  test::open_stories(w);
  test::type_prompt(
      w, "Once upon a time, there was a little girl named Lily. She liked to play outside.");
  w.select_head(3, 1);
  REQUIRE(w.wait_idle());
  AttentionMapView* m = w.map_view();
  const QStringList labels = w.prompt_panel()->labels();
  const int T = labels.size();
  REQUIRE(T > 15);
  // Zoomed to 12 tokens every one is labelled, as position:«token».
  m->zoom_to(3, 14);
  m->plot()->replot(QCustomPlot::rpImmediateRefresh);
  QApplication::processEvents();
  for (bool key_axis : {true, false}) {
    const QStringList ticks = m->tick_labels(key_axis);
    REQUIRE(ticks.size() == 12);
    for (int i = 0; i < 12; ++i)
      CHECK(ticks[i] == QString("%1:«%2»").arg(3 + i).arg(labels[3 + i]));
  }
  m->reset_zoom();
  m->plot()->replot(QCustomPlot::rpImmediateRefresh);
  // At full zoom every token fits in this window too (T is small).
  CHECK(m->tick_labels(false).size() == T);
  test::save_screenshot(m->grab().toImage(), "map_all_tokens");

  // The colour bar says its scale and clip; the token view has a title naming head and query.
  m->plot()->replot(QCustomPlot::rpImmediateRefresh);
  w.token_view()->set_query(T - 1);
  w.token_view()->set_key(1);
  REQUIRE(w.token_view()->wait_idle());
  CHECK(w.token_view()->title().contains("L3 H1"));
  CHECK(w.token_view()->title().contains(QString("query %1").arg(T - 1)));
  const auto& col = w.token_view()->column();
  REQUIRE(col.size() == size_t(T - 1));
  for (int i = 0; i < T - 1; ++i) CHECK(col[i] == Approx(m->pattern()->at(1 + i, 1)).margin(1e-6));
  test::save_screenshot(w.token_view()->grab().toImage(), "token_view");

  // Exports at single and double column and a chosen dpi, not the window's size.
  const auto dir = test::temp_dir("gui-paper");
  for (auto [inches, dpi] : {std::pair{kSingleColumnIn, 300}, std::pair{kDoubleColumnIn, 150}}) {
    w.set_export_size(FigureSize{inches, 0, dpi});
    const QString path =
        QString::fromStdString((dir / ("map_" + std::to_string(dpi) + ".png")).string());
    w.export_view(m->plot(), m->csv(), path);
    const QImage img(path);
    REQUIRE(!img.isNull());
    CHECK(img.width() == int(int(inches * 96 + 0.5) * dpi / 96.0));
    // As high as the square map and its panels need: no more than the width.
    CHECK(img.height() <= img.width());
    CHECK(img.height() > img.width() / 2);
    CHECK(std::abs(img.dotsPerMeterX() - dpi / 0.0254) < 2);
    test::save_screenshot(img, "export_map_" + std::to_string(dpi) + "dpi");
    const QString tok =
        QString::fromStdString((dir / ("tokens_" + std::to_string(dpi) + ".png")).string());
    w.export_view(w.token_view()->plot(), w.token_view()->csv(), tok);
    CHECK(QImage(tok).width() == int(int(inches * 96 + 0.5) * dpi / 96.0));
    test::save_screenshot(QImage(tok), "export_tokens_" + std::to_string(dpi) + "dpi");
  }
}

TEST_CASE("layout: side panels close, and hide on the Train and Sweeps tabs", "[gui][layout]") {
  test::gui_app();
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  REQUIRE(w.docks().size() == 3);
  for (QDockWidget* d : w.docks()) {
    CHECK(d->features().testFlag(QDockWidget::DockWidgetClosable));
    CHECK(d->isVisible());
  }
  w.docks()[2]->close();
  w.tabs()->setCurrentWidget(w.train_panel());
  for (QDockWidget* d : w.docks()) CHECK(!d->isVisible());
  QApplication::processEvents();  // the central widget takes the freed width
  CHECK(w.train_panel()->width() > 1300);
  test::save_screenshot(w.grab().toImage(), "train_tab_no_panels");
  w.tabs()->setCurrentWidget(w.sweep_browser());
  for (QDockWidget* d : w.docks()) CHECK(!d->isVisible());
  w.tabs()->setCurrentIndex(0);
  CHECK(w.docks()[0]->isVisible());
  CHECK(w.docks()[1]->isVisible());
  CHECK(!w.docks()[2]->isVisible());  // closed by the user stays closed
}

TEST_CASE("a model opened without a prompt analyses its own text", "[gui]") {
  test::gui_app();
  MainWindow w;
  w.show();
  test::open_stories(w);
  REQUIRE(w.wait_idle());
  REQUIRE(w.capture());
  CHECK(w.capture()->T() > 10);
  CHECK(w.capture()->tokens().front() == 1);  // BOS
  CHECK(!w.prompt_panel()->prompt().isEmpty());
  CHECK(w.map_view()->has_head());
}

TEST_CASE("alpha_k under a mask: the analysis library's masked divisor", "[gui]") {
  // A window of 3 with one sink over T = 8: uniform attention over each row's visible keys.
  const int T = 8;
  HeadPattern p;
  p.T = T;
  p.mask = KeyMask::window(3, 1);
  p.mask.prepare(T);
  p.w.assign(size_t(T) * T, 0.0f);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j <= t; ++j)
      if (p.mask.visible(t, j)) p.w[size_t(t) * T + j] = 1.0f / p.mask.visible_count(t);
  HeadStats stats;
  std::vector<int32_t> tokens(T, 3);
  stats.begin_sequence(tokens.data(), T, p.mask, true);
  for (int t = 0; t < T; ++t) stats.add_row(t, p.w.data() + size_t(t) * T);
  stats.end_sequence();
  const std::vector<double> expect = stats.summary().alpha_visible;
  const std::vector<double> got = key_importance(p);
  REQUIRE(got.size() >= expect.size());
  for (size_t k = 0; k < expect.size(); ++k) CHECK(got[k] == Approx(expect[k]).margin(1e-9));
  // Uniform rows have normalized entropy 1 under the mask (log of the visible count).
  const auto e = query_entropy(p);
  for (int t = 1; t < T; ++t) CHECK(e[t] == Approx(1.0).margin(1e-6));
  // Keys the window hides are grey like the future.
  ColorScale s;
  const QImage img = build_pattern_image(p, s);
  CHECK(img.pixel(2, 7) == pattern_color_table()[0]);
  CHECK(img.pixel(0, 7) != pattern_color_table()[0]);
}

TEST_CASE("sweep browser: a single run's y-range starts at 0", "[gui]") {
  const QCPRange one = sweep_y_range(0.0612, 0.0612);
  CHECK(one.lower == 0);
  CHECK(one.upper == Approx(0.0612 * 1.15));
  const QCPRange spread = sweep_y_range(0.2, 0.9);  // runs that differ: padded spread
  CHECK(spread.lower == Approx(0.13));
  CHECK(spread.upper == Approx(0.97));
  const QCPRange neg = sweep_y_range(-3.1, -3.0);
  CHECK(neg.upper == 0);
}
