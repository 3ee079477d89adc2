// The explorer end to end on the real stories260K model: open, type, pick a head, and check
// that the map on screen is exactly the attention the engine computes for that head.
#include <qcustomplot.h>

#include <QLabel>
#include <QMessageBox>
#include <QTest>
#include <catch2/catch.hpp>
#include <fstream>

#include "core/io/load_checkpoint.h"
#include "core/model/observer.h"
#include "gui/attention_map_view.h"
#include "gui/color_lut.h"
#include "gui/figure_export.h"
#include "gui/head_grid_view.h"
#include "gui/job_runner.h"
#include "gui/main_window.h"
#include "gui/prompt_panel.h"
#include "gui/token_chips.h"
#include "gui/token_view.h"
#include "tests/gui/gui_test_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::gui;

namespace {

// The engine's attention for one head, straight from the variant's pattern() during a fresh
// forward pass of a separately loaded model (nothing shared with the GUI's capture).
std::vector<float> engine_pattern(const std::string& path, const std::vector<int32_t>& tokens, int layer, int head) {
  LoadedModel lm = load_checkpoint(path);
  Transformer model(lm.config);
  model.load_weights(lm.weights);
  struct Grab : ForwardObserver {
    int layer, head, T;
    std::vector<float> w;
    void on_attention(const LayerAttentionView& v) override {
      if (v.layer != layer) return;
      w.assign(size_t(T) * T, 0.0f);
      v.attention->pattern(*v.inputs, 0, head, [&](int t, const float* row) {
        std::copy(row, row + t + 1, w.begin() + size_t(t) * T);
      });
    }
  } grab;
  grab.layer = layer;
  grab.head = head;
  grab.T = int(tokens.size());
  model.add_observer(&grab);
  model.forward(tokens.data(), 1, int(tokens.size()));
  return grab.w;
}

}  // namespace

TEST_CASE("explorer: stories260K, typed prompt, clicked head shows the engine's pattern", "[gui]") {
  test::gui_app();
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  test::open_stories(w);
  CHECK(w.model().summary.find("5 layers × 8 heads") != std::string::npos);

  test::type_prompt(w, "Once upon a time, there was a little girl named Lily.");
  const std::vector<int32_t> tokens = w.prompt_panel()->tokens();
  REQUIRE(tokens.size() > 5);
  CHECK(tokens.front() == 1);  // llama2.c models start with BOS
  CHECK(w.prompt_panel()->chips()->count() == int(tokens.size()));
  CHECK(w.capture()->T() == int(tokens.size()));
  CHECK(w.grid_view()->grid().n_layers == 5);
  CHECK(w.grid_view()->grid().n_heads == 8);

  // Click layer 3, head 5 on the grid.
  QCustomPlot* grid_plot = w.grid_view()->plot();
  QTest::mouseClick(grid_plot, Qt::LeftButton, Qt::NoModifier, w.grid_view()->cell_center(3, 5));
  REQUIRE(w.wait_idle());  // heads are drawn on a worker thread
  auto shown = w.map_view()->pattern();
  REQUIRE(shown);
  CHECK(shown->layer == 3);
  CHECK(shown->head == 5);

  const auto path = test::shared_file("models/stories260K/stories260K.bin").string();
  const std::vector<float> ref = engine_pattern(path, tokens, 3, 5);
  const int T = int(tokens.size());
  REQUIRE(shown->T == T);
  REQUIRE(ref.size() == shown->w.size());
  double max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, double(std::abs(ref[i] - shown->w[i])));
  CHECK(max_diff < 1e-6);
  // Causal rows that sum to one; the masked triangle is grey in the image.
  for (int t = 0; t < T; ++t) {
    double s = 0;
    for (int j = 0; j <= t; ++j) s += shown->at(t, j);
    CHECK(s == Approx(1.0).margin(1e-4));
  }
  const QImage& img = w.map_view()->image();
  REQUIRE(img.width() == T);
  CHECK(img.pixel(T - 1, 0) == masked_cell_rgb());
  CHECK(img.pixel(0, T - 1) != masked_cell_rgb());
  // Hover text names the query token, the key token and the weight.
  const QString hover = w.map_view()->describe_cell(T - 1, 0);
  CHECK(hover.contains(QString("query %1").arg(T - 1)));
  CHECK(hover.contains("key 0"));
  CHECK(hover.contains(QString::number(double(shown->at(T - 1, 0)), 'g', 4)));
  CHECK(w.map_view()->describe_cell(0, 3).contains("masked"));

  // Token view follows the head; the weights of a query are its row of the map.
  w.token_view()->set_query(T - 1);
  REQUIRE(w.token_view()->wait_idle());
  const auto& weights = w.token_view()->weights();
  REQUIRE(int(weights.size()) == T);
  for (int j = 0; j < T; ++j) CHECK(weights[j] == Approx(shown->at(T - 1, j)).margin(1e-6));
  w.token_view()->set_mode(TokenView::kModelMean);
  REQUIRE(w.token_view()->wait_idle());
  double s = 0;
  for (double v : w.token_view()->weights()) s += v;
  CHECK(s == Approx(1.0).margin(1e-4));

  // Log scale rebuilds the image but not the data.
  w.map_view()->set_log_scale(true);
  CHECK(w.map_view()->pattern() == shown);

  // Ctrl+click opens a second head beside the first.
  QTest::mouseClick(grid_plot, Qt::LeftButton, Qt::ControlModifier, w.grid_view()->cell_center(0, 1));
  REQUIRE(w.wait_idle());
  REQUIRE(w.compare_view()->isVisible());
  REQUIRE(w.compare_view()->pattern());
  CHECK(w.compare_view()->pattern()->layer == 0);
  CHECK(w.compare_view()->pattern()->head == 1);
  CHECK(w.map_view()->pattern()->layer == 3);
}

TEST_CASE("explorer: export PDF, SVG, PNG and the CSV behind the map", "[gui]") {
  test::gui_app();
  MainWindow w;
  w.resize(1300, 850);
  w.show();
  test::open_stories(w);
  test::type_prompt(w, "The cat sat on the mat.");
  w.select_head(1, 2);
  REQUIRE(w.wait_idle());
  const int T = w.capture()->T();
  const auto dir = test::temp_dir("gui-export");
  auto read = [](const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  QCustomPlot* plot = w.map_view()->plot();
  const QString csv = w.map_view()->csv();
  w.export_view(plot, csv, QString::fromStdString((dir / "map.pdf").string()));
  w.export_view(plot, csv, QString::fromStdString((dir / "map.svg").string()));
  w.export_view(plot, csv, QString::fromStdString((dir / "map.png").string()));
  const std::string pdf = read(dir / "map.pdf");
  REQUIRE(pdf.size() > 1000);
  CHECK(pdf.rfind("%PDF-", 0) == 0);
  CHECK(pdf.find("%%EOF") != std::string::npos);
  // The map's cells are stored losslessly: JPEG's chroma subsampling smeared colour across cells.
  CHECK(pdf.find("/DCTDecode") == std::string::npos);
  const std::string svg = read(dir / "map.svg");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  QImage png;
  REQUIRE(png.load(QString::fromStdString((dir / "map.png").string())));
  // A single column (3.5 in) at 300 dpi, whatever the window's size (issue 19).
  CHECK(png.width() == exported_png_size(FigureSize{}).width());
  CHECK(png.dotsPerMeterX() == Approx(300 / 0.0254).margin(2));
  CHECK(test::distinct_colors(png) > 20);
  // The CSV beside the figure: a header and one row per causal cell.
  const std::string table = read(dir / "map.csv");
  CHECK(table.rfind("query,key,query_token,key_token,weight\n", 0) == 0);
  CHECK(std::count(table.begin(), table.end(), '\n') == 1 + T * (T + 1) / 2);
  // No temporary files are left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 4);
  // A bad extension is a clear error, not a silent file.
  CHECK_THROWS_WITH(w.export_view(plot, csv, QString::fromStdString((dir / "map.bmp").string())),
                    Catch::Contains("pdf"));
  // The head grid and token view export too.
  w.export_view(w.grid_view()->plot(), w.grid_view()->csv(), QString::fromStdString((dir / "grid.png").string()));
  CHECK(read(dir / "grid.csv").rfind("layer,head,", 0) == 0);
}

TEST_CASE("explorer: bad files give an error dialog and the app keeps working", "[gui]") {
  test::gui_app();
  MainWindow w;
  w.show();
  const auto dir = test::temp_dir("gui-bad");
  const auto junk = dir / "broken.gguf";
  {
    std::ofstream f(junk, std::ios::binary);
    f << "GGUF" << std::string(40, '\x07');
  }
  w.open_model(QString::fromStdString(junk.string()));
  REQUIRE(w.jobs()->wait_idle());
  QPointer<QMessageBox> box = w.error_box();
  REQUIRE(box);
  CHECK(box->isVisible());
  CHECK(box->text().contains("broken.gguf"));
  box->close();  // auto-close the dialog, as a user would
  QApplication::processEvents();
  CHECK(!w.model().model);

  w.open_model(QString::fromStdString((dir / "missing.bin").string()));
  REQUIRE(w.jobs()->wait_idle());
  REQUIRE(w.error_box());
  CHECK(w.error_box()->text().contains("no such file"));
  w.error_box()->close();
  QApplication::processEvents();

  // Still alive: a good model opens and analyses, from the llama2.c file and from the GGUF,
  // which tokenize the prompt the same way.
  test::open_stories(w);
  test::type_prompt(w, "Lily was happy.");
  CHECK(w.map_view()->pattern());
  const std::vector<int32_t> from_bin = w.prompt_panel()->tokens();
  w.open_model(QString::fromStdString(test::shared_file("models/stories260K/stories260K.gguf").string()));
  REQUIRE(w.wait_idle());
  REQUIRE(w.model().model);
  CHECK(w.model().summary.find("(gguf)") != std::string::npos);
  CHECK(w.prompt_panel()->tokens() == from_bin);
  REQUIRE(w.capture());
  CHECK(w.capture()->T() == int(from_bin.size()));
}

TEST_CASE("explorer: one head in two models side by side", "[gui]") {
  test::gui_app();
  MainWindow w;
  w.resize(1400, 900);
  w.show();
  test::open_stories(w);
  test::type_prompt(w, "Tom had a red ball.");
  w.select_head(2, 6);
  REQUIRE(w.wait_idle());
  // The same weights from the GGUF: the comparison map must match the main map exactly.
  w.open_second_model(QString::fromStdString(test::shared_file("models/stories260K/stories260K.gguf").string()));
  REQUIRE(w.wait_idle());
  if (w.error_box() && w.error_box()->isVisible()) FAIL(w.error_box()->text().toStdString());
  REQUIRE(w.second_capture());
  REQUIRE(w.compare_view()->isVisible());
  auto a = w.map_view()->pattern();
  auto b = w.compare_view()->pattern();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->layer == 2);
  CHECK(b->head == 6);
  REQUIRE(a->w.size() == b->w.size());
  double diff = 0;
  for (size_t i = 0; i < a->w.size(); ++i) diff = std::max(diff, double(std::abs(a->w[i] - b->w[i])));
  CHECK(diff < 1e-5);
  // Selecting another head moves both maps.
  w.select_head(4, 0);
  REQUIRE(w.wait_idle());
  CHECK(w.compare_view()->pattern()->layer == 4);
  CHECK(w.compare_view()->pattern()->head == 0);
  w.close_second_model();
  CHECK(!w.second_capture());
}
