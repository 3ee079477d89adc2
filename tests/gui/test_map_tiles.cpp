// Long-context attention maps: tiles recomputed from the kept q/k/v equal the materialized map,
// pooled tiles are the max over their blocks, and a 4096-token head opens, zooms and hovers
// without anything T x T (in the view and in the explorer).
#include <QTest>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <qcustomplot.h>
#include <string>

#include "core/io/checkpoint.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "gui/attention_capture.h"
#include "gui/attention_map_view.h"
#include "gui/cpu_tile_source.h"
#include "gui/job_runner.h"
#include "gui/long_map_overview.h"
#include "gui/main_window.h"
#include "gui/map_tile_loader.h"
#include "gui/model_loading.h"
#include "gui/pattern_image.h"
#include "gui/pattern_plottable.h"
#include "gui/prompt_panel.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;
using attnlab::test::random_tokens;

namespace {

// A tiny random model: layer 0 plain softmax, layer 1 a sliding window with sinks.
std::shared_ptr<Transformer> tiny_model(int context) {
  ModelConfig c;
  c.vocab_size = 64;
  c.context = context;
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.d_ff = 64;
  c.attention = {"softmax", "window(size=300,sinks=2)"};
  auto m = std::make_shared<Transformer>(c);
  m->init_weights(7);
  return m;
}

MapTileRequest rect(int layer, int head, int t0, int t1, int j0, int j1, int pr = 1, int pc = 1) {
  MapTileRequest r;
  r.layer = layer, r.head = head, r.t0 = t0, r.t1 = t1, r.j0 = j0, r.j1 = j1, r.pool_rows = pr, r.pool_cols = pc;
  return r;
}

// The tile as the materialized map defines it: the block, or its blocks' max |w| over visible cells.
std::vector<float> expected_tile(const HeadPattern& p, const MapTileRequest& r) {
  std::vector<float> out(size_t(r.rows()) * r.cols(), 0.0f);
  for (int t = r.t0; t < r.t1; ++t)
    for (int j = r.j0; j < r.j1; ++j) {
      float& o = out[size_t((t - r.t0) / r.pool_rows) * r.cols() + (j - r.j0) / r.pool_cols];
      if (r.exact())
        o = p.at(t, j);
      else if (j <= t)
        o = std::max(o, std::abs(p.at(t, j)));
    }
  return out;
}

void check_tiles(const CapturedForward& cap, int layer, int head) {
  const HeadPattern p = cap.pattern(layer, head);
  const int T = cap.T();
  CpuTileSource src(std::shared_ptr<const CapturedForward>(&cap, [](const CapturedForward*) {}));
  const std::vector<MapTileRequest> rects = {
      rect(layer, head, 0, T, 0, T),             // everything
      rect(layer, head, 0, 1, 0, 1),             // the first cell
      rect(layer, head, T - 1, T, 0, T),         // the last row
      rect(layer, head, 0, T, T - 1, T),         // the last column (masked but for one cell)
      rect(layer, head, T - 7, T, T - 9, T),     // bottom-right corner across the diagonal
      rect(layer, head, 2, 9, 20, 31),           // entirely masked
      rect(layer, head, T / 2, T / 2 + 5, 0, 3), // sink columns
      rect(layer, head, 0, T, 0, T, 4, 4),       // pooled, blocks cut at the edge (T % 4 != 0)
      rect(layer, head, 5, T, 3, T - 2, 3, 7),   // pooled, uneven
      rect(layer, head, 10, 12, 0, T, 2, T),     // one pixel across the whole row band
  };
  for (const MapTileRequest& r : rects) {
    INFO("L" << layer << "H" << head << " rows [" << r.t0 << "," << r.t1 << ") keys [" << r.j0 << "," << r.j1
             << ") pool " << r.pool_rows << "x" << r.pool_cols);
    const MapTile tile = src.tile(r);
    REQUIRE(tile.w.size() == size_t(r.rows()) * r.cols());
    const std::vector<float> want = expected_tile(p, r);
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, double(std::abs(tile.w[i] - want[i])));
    CHECK(worst <= 1e-6);
  }
}

size_t peak_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
  return 0;
}

// Resets the peak so that VmHWM afterwards measures only what follows (Linux clear_refs 5).
bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return bool(f);
}

void zoom(AttentionMapView& v, double t0, double t1, double j0, double j1) {
  QCPAxisRect* r = v.plot()->axisRect(0);
  r->axis(QCPAxis::atTop)->setRange(j0 - 0.5, j1 - 0.5);
  r->axis(QCPAxis::atLeft)->setRange(t0 - 0.5, t1 - 0.5);
  v.plot()->replot();
}

float reference_weight(const CapturedForward& cap, int layer, int head, int t, int j) {
  float w = NAN;
  cap.stream_rows(layer, head, [&](int row_t, const float* row) {
    if (row_t == t) w = row[j];
  });
  return w;
}

}  // namespace

TEST_CASE("map tiles: CPU tiles equal the materialized map of stories260K, exact and pooled", "[gui]") {
  OpenedModel m = open_model_file(test::shared_file("models/stories260K/stories260K.bin").string());
  auto cap = CapturedForward::run(m.model, random_tokens(61, m.model->config().vocab_size, 3));
  check_tiles(*cap, 0, 0);
  check_tiles(*cap, 3, 5);
  check_tiles(*cap, 4, 7);
}

TEST_CASE("map tiles: windowed attention with sinks, and a tiny model's softmax layer", "[gui]") {
  auto cap = CapturedForward::run(tiny_model(512), random_tokens(333, 64, 5));
  REQUIRE(cap->attention_spec(1).find("window") != std::string::npos);
  check_tiles(*cap, 1, 0);  // window 300 < T: a band of zeros below the diagonal
  check_tiles(*cap, 0, 1);
}

TEST_CASE("map tiles: bad requests are clear errors, cancel stops the stream", "[gui]") {
  auto cap = CapturedForward::run(tiny_model(64), random_tokens(40, 64, 1));
  CpuTileSource src(cap);
  CHECK_THROWS_WITH(src.tile(rect(0, 0, 0, 41, 0, 5)), Catch::Contains("query rows [0,41)"));
  CHECK_THROWS_WITH(src.tile(rect(0, 0, 5, 5, 0, 5)), Catch::Contains("non-empty"));
  CHECK_THROWS_WITH(src.tile(rect(0, 0, 0, 5, -1, 5)), Catch::Contains("key columns"));
  CHECK_THROWS_WITH(src.tile(rect(0, 0, 0, 5, 0, 5, 0, 1)), Catch::Contains("pool"));
  CHECK_THROWS_WITH(src.tile(rect(2, 0, 0, 5, 0, 5)), Catch::Contains("no head L2H0"));
  CHECK_THROWS_WITH(src.tile(rect(0, 9, 0, 5, 0, 5)), Catch::Contains("no head L0H9"));
  CHECK_THROWS_AS(CpuTileSource(nullptr), Error);
  CHECK_THROWS_AS(overview_factor(100, 0), Error);
  std::atomic<bool> cancel{true};
  CHECK_THROWS_AS(src.tile(rect(0, 0, 0, 40, 0, 40), &cancel), Cancelled);
}

TEST_CASE("map tiles: the streamed overview equals the materialized map's pooling and panels", "[gui]") {
  auto cap = CapturedForward::run(tiny_model(512), random_tokens(301, 64, 9));
  for (int layer : {0, 1}) {
    const HeadPattern p = cap->pattern(layer, 1);
    CpuTileSource src(cap);
    const LongMapOverview o = build_long_overview(src, layer, 1, 64);
    CHECK(o.factor == 5);  // ceil(301 / 64)
    CHECK(o.pooled.w == expected_tile(p, rect(layer, 1, 0, 301, 0, 301, 5, 5)));
    CHECK(o.alpha == key_importance(p));
    CHECK(o.entropy == query_entropy(p));
    CHECK(o.scale_top == auto_scale(p, false).hi);
    // Coloured like the full map's max-pooled pyramid: a pixel is the largest index of its block.
    const QImage full = build_pattern_image(p, auto_scale(p, false));
    const QImage ov = build_tile_image(o.pooled, scale_with_top(o.scale_top, false));
    REQUIRE(ov.width() == 61);
    int mismatches = 0;
    for (int y = 0; y < ov.height(); ++y)
      for (int x = 0; x < ov.width(); ++x) {
        uchar mx = 0;
        for (int t = 5 * y; t < std::min(301, 5 * y + 5); ++t)
          for (int j = 5 * x; j < std::min(301, 5 * x + 5); ++j) mx = std::max(mx, full.constScanLine(t)[j]);
        mismatches += ov.constScanLine(y)[x] != mx;
      }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("map view: a 4096-token head opens without a T x T map, zoom recomputes exact tiles", "[gui]") {
  test::gui_app();
  const int T = 4096;
  auto cap = CapturedForward::run(tiny_model(T), random_tokens(T, 64, 11));
  AttentionMapView view;
  view.resize(900, 820);
  view.show();
  QStringList labels;
  for (int i = 0; i < T; ++i) labels << QString("t%1").arg(i);
  view.set_tokens(labels);

  // Memory: the overview holds ~1024^2 floats + images; the materialized map alone is 64 MB.
  REQUIRE(reset_peak_rss());
  const size_t before = peak_rss_kb();
  QElapsedTimer clock;
  clock.start();
  view.show_long(make_map_tile_source(cap, false), 0, 1, "Layer 0, head 1 · 4096 tokens");
  REQUIRE(view.wait_idle(120000));
  const qint64 open_ms = clock.elapsed();
  const size_t grew_mb = (peak_rss_kb() - before) / 1024;
  WARN("T=4096 head opened in " << open_ms << " ms on the CPU; peak memory grew by " << grew_mb << " MB");
  CHECK(grew_mb < 40);
  CHECK_FALSE(view.pattern());
  CHECK(view.long_context());
  CHECK(view.cells() == T);
  auto overview = view.tile_loader()->overview();
  REQUIRE(overview);
  CHECK(overview->factor == 4);
  CHECK(view.image().width() == 1024);
  CHECK(test::distinct_colors(view.image()) > 8);
  CHECK(view.tile_loader()->tiles_requested() == 0);  // fitted: the overview is finer than the screen
  CHECK(view.describe_cell(2050, 1050).contains("at most"));
  CHECK(view.describe_cell(10, 20).contains("masked"));
  test::save_screenshot(view.grab().toImage(), "long_context_overview");

  // Half-way zoom: a pooled tile finer than the overview.
  zoom(view, 1024, 2048, 512, 1536);
  REQUIRE(view.wait_idle(120000));
  CHECK(view.tile_loader()->tiles_requested() == 1);
  auto tile = view.tile_loader()->tile();
  REQUIRE(tile);
  CHECK_FALSE(tile->req.exact());
  CHECK(tile->req.pool_rows < overview->factor);
  CHECK(tile->req.contains(1024, 512));
  CHECK(tile->req.contains(2047, 1535));

  // Zoomed in to under a cell per pixel: an exact tile, and the hover read-out is exact.
  zoom(view, 2000, 2100, 1000, 1100);
  REQUIRE(view.wait_idle(120000));
  CHECK(view.tile_loader()->tiles_requested() == 2);
  tile = view.tile_loader()->tile();
  REQUIRE(tile);
  CHECK(tile->req.exact());
  for (auto [t, j] : {std::pair{2050, 1050}, std::pair{2000, 1000}, std::pair{2099, 1099}, std::pair{2060, 1099}}) {
    const float want = reference_weight(*cap, 0, 1, t, j);
    CHECK(tile->cell(t, j) == want);
    CHECK(view.describe_cell(t, j).endsWith(": " + QString::number(double(want), 'g', 4)));
  }
  CHECK(view.csv().count('\n') == 1 + (tile->req.t1 - tile->req.t0) * (tile->req.j1 - tile->req.j0));
  // A small pan stays inside the tile's margin: nothing recomputed.
  zoom(view, 2010, 2110, 1010, 1110);
  REQUIRE(view.wait_idle(120000));
  CHECK(view.tile_loader()->tiles_requested() == 2);
  test::save_screenshot(view.grab().toImage(), "long_context_zoomed");

  // The window layer (same size: the zoom is kept), then zoomed on the window's edge.
  view.show_long(make_map_tile_source(cap, false), 1, 0, "Layer 1, head 0 · window(size=300,sinks=2)");
  REQUIRE(view.wait_idle(120000));
  zoom(view, 2000, 2100, 1650, 1750);
  REQUIRE(view.wait_idle(120000));
  tile = view.tile_loader()->tile();
  REQUIRE(tile);
  CHECK(tile->req.layer == 1);
  CHECK(tile->req.exact());
  CHECK(tile->cell(2000, 1700) == 0.0f);  // 300 keys back: outside the window
  CHECK(tile->cell(2000, 1701) == reference_weight(*cap, 1, 0, 2000, 1701));
  CHECK(tile->cell(2000, 1701) > 0.0f);
  CHECK(view.describe_cell(2050, 1).contains("at most"));  // a sink key, off the tile: the overview says
  view.set_log_scale(true);
  CHECK(view.plot()->plottableCount() >= 1);
  test::save_screenshot(view.grab().toImage(), "long_context_window_log");

  // Fit again: back to the overview, no new tile.
  const int asked = view.tile_loader()->tiles_requested();
  view.reset_zoom();
  REQUIRE(view.wait_idle(120000));
  CHECK(view.tile_loader()->tiles_requested() == asked);
  view.clear();
  CHECK_FALSE(view.has_head());
}

TEST_CASE("explorer: a 4096-token prompt opens its head without a T x T map", "[gui]") {
  test::gui_app();
  const auto dir = test::temp_dir("gui-long");
  const std::string path = (dir / "tiny4096.safetensors").string();
  save_checkpoint(path, *tiny_model(4096));
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  w.open_model(QString::fromStdString(path));
  REQUIRE(w.jobs()->wait_idle());
  REQUIRE(w.model().model);
  QString ids;
  for (int32_t t : random_tokens(4096, 64, 13)) ids += QString::number(t) + " ";
  w.prompt_panel()->set_prompt(ids);
  QTest::qWait(400);
  REQUIRE(w.wait_idle(240000));
  if (w.error_box() && w.error_box()->isVisible()) FAIL("error dialog: " << w.error_box()->text().toStdString());
  REQUIRE(w.capture());
  REQUIRE(w.capture()->T() == 4096);
  CHECK_FALSE(w.map_view()->pattern());
  CHECK(w.map_view()->long_context());
  CHECK(w.map_view()->tile_loader()->overview());
  test::save_screenshot(w.grab().toImage(), "explorer_long_context");
}

// Hidden (run by hand: test_gui "[.long-bench]"): the numbers docs/gui.md quotes, at T = 16384.
TEST_CASE("map view: timing and memory of a 16384-token head on the CPU", "[.long-bench]") {
  test::gui_app();
  const int T = 16384;
  QElapsedTimer clock;
  clock.start();
  auto cap = CapturedForward::run(tiny_model(T), random_tokens(T, 64, 17));
  const qint64 forward_ms = clock.elapsed();
  AttentionMapView view;
  view.resize(900, 820);
  view.show();
  REQUIRE(reset_peak_rss());
  const size_t before = peak_rss_kb();
  clock.restart();
  view.show_long(make_map_tile_source(cap, false), 0, 1, "bench");
  REQUIRE(view.wait_idle(600000));
  const qint64 open_ms = clock.elapsed();
  const size_t grew_mb = (peak_rss_kb() - before) / 1024;
  clock.restart();
  zoom(view, 100, 200, 50, 150);
  REQUIRE(view.wait_idle(600000));
  const qint64 top_ms = clock.elapsed();
  clock.restart();
  zoom(view, T - 100, T, T - 300, T - 200);
  REQUIRE(view.wait_idle(600000));
  const qint64 bottom_ms = clock.elapsed();
  REQUIRE(view.tile_loader()->tile());
  CHECK(view.tile_loader()->tile()->req.exact());
  WARN("T=" << T << ": forward " << forward_ms << " ms; head opened in " << open_ms << " ms, peak memory +" << grew_mb
            << " MB (a T x T map: " << (int64_t(T) * T * 4 >> 20) << " MB); exact tile near the top " << top_ms
            << " ms, near the bottom " << bottom_ms << " ms");
}
