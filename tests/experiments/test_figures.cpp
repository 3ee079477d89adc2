// Figures from a synthetic store: every kind in every format, checked by magic bytes, PNG
// size and resolution, and the CSV written next to each figure.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/tensor/error.h"
#include "experiments/figures/figures.h"
#include "experiments/figures/paper_style.h"
#include "experiments/store/store.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::exp;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint32_t(uint8_t(s[at + 3]));
}

// 2 variants x 2 seeds, 20 steps of loss, per-head entropy every 10 steps, one attention map.
std::string make_store(const fs::path& dir) {
  std::string path = (dir / "study.sqlite").string();
  Store s(path);
  int k = 0;
  for (std::string attn : {"softmax", "sigmoid"})
    for (int seed : {0, 1}) {
      RunRecord r;
      r.id = attn + std::to_string(seed);
      r.config = {{"model", {{"attention", {attn}}}}, {"seed", seed}};
      r.seed = seed;
      r.status = "done";
      r.total_steps = 20;
      s.upsert_run(r);
      std::vector<ScalarRow> rows;
      std::vector<HeadRow> heads;
      for (int step = 1; step <= 20; ++step)
        rows.push_back({r.id, step, "loss", 3.0 / std::sqrt(double(step)) + 0.1 * seed + (attn == "sigmoid" ? 0.2 : 0.0)});
      for (int step : {10, 20})
        for (int l = 0; l < 2; ++l)
          for (int h = 0; h < 4; ++h) heads.push_back({r.id, step, l, h, "entropy", 0.1 * (l * 4 + h) + 0.01 * k});
      s.write_progress(r.id, 20, rows, heads);
      AttentionMap m{r.id, 20, 1, 2, 4, std::vector<float>(16, 0.0f)};
      for (int t = 0; t < 4; ++t)
        for (int j = 0; j <= t; ++j) m.data[t * 4 + j] = 1.0f / (t + 1);
      if (attn == "softmax") m.tokens = {"<bos>", " ", ",", "a"};  // sigmoid's maps stay unlabelled
      s.put_attention_map(m);
      ++k;
    }
  return path;
}

void check_files(const fs::path& base) {
  std::string pdf = read_all(fs::path(base).replace_extension(".pdf"));
  std::string svg = read_all(fs::path(base).replace_extension(".svg"));
  std::string png = read_all(fs::path(base).replace_extension(".png"));
  CHECK(pdf.substr(0, 5) == "%PDF-");
  CHECK(pdf.find("%%EOF") != std::string::npos);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  REQUIRE(png.size() > 64);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR: width and height at 300 dpi of the 3.4 x 2.5 inch paper figure.
  const auto& st = fig::paper_style();
  CHECK(png.substr(12, 4) == "IHDR");
  CHECK(be32(png, 16) == uint32_t(std::lround(st.width_in * 96) * st.dpi / 96.0 + 0.5));
  CHECK(be32(png, 20) == uint32_t(std::lround(st.height_in * 96) * st.dpi / 96.0 + 0.5));
  // pHYs: 300 dpi = 11811 pixels per metre, unit 1 (metre).
  size_t phys = png.find("pHYs");
  REQUIRE(phys != std::string::npos);
  CHECK(be32(png, phys + 4) == 11811);
  CHECK(be32(png, phys + 8) == 11811);
  CHECK(uint8_t(png[phys + 12]) == 1);
}

}  // namespace

TEST_CASE("line, heatmap, attention and bar figures in PDF, SVG and PNG with their CSV") {
  auto dir = test::temp_dir("figures");
  Store store(make_store(dir), true);
  fig::FigureRequest req;
  req.formats = {"svg", "png"};

  SECTION("line: one line per variant with a seed band") {
    req.kind = "line";
    req.output = (dir / "loss.pdf").string();
    auto files = fig::make_figure(store, req);
    CHECK(files.size() == 4);
    check_files(dir / "loss");
    std::string csv = read_all(dir / "loss.csv");
    CHECK(csv.rfind("model.attention,step,mean,mean_minus_ci95,mean_plus_ci95,n_seeds\n", 0) == 0);
    // step 1 of softmax: seeds give 3.0 and 3.1 -> mean 3.05, sd 0.0707, 95 % t-interval of the
    // mean over 2 seeds: +- 12.706 x 0.0707 / sqrt(2) = 0.6353
    CHECK(csv.find("softmax,1,3.05,2.4146898,3.6853102,2\n") != std::string::npos);
    req.band = "sd";
    fig::make_figure(store, req);
    csv = read_all(dir / "loss.csv");
    CHECK(csv.rfind("model.attention,step,mean,mean_minus_sd,mean_plus_sd,n_seeds\n", 0) == 0);
    CHECK(csv.find("softmax,1,3.05,2.9792893,3.1207107,2\n") != std::string::npos);
  }
  SECTION("heatmap: layer x head of a per-head metric, mean over the selected runs") {
    req.kind = "heatmap";
    req.metric = "entropy";
    req.filters = {parse_filter("model.attention=softmax")};
    req.output = (dir / "heat.pdf").string();
    fig::make_figure(store, req);
    check_files(dir / "heat");
    std::string csv = read_all(dir / "heat.csv");
    CHECK(csv.rfind("layer,head,entropy\n0,0,0.005\n", 0) == 0);  // mean of 0.00 and 0.01
    CHECK(csv.find("1,3,0.705\n") != std::string::npos);
  }
  SECTION("attention map of one head") {
    req.kind = "attention";
    req.run = "sigmoid1";
    req.layer = 1;
    req.head = 2;
    req.output = (dir / "attn.pdf").string();
    fig::make_figure(store, req);
    check_files(dir / "attn");
    std::string csv = read_all(dir / "attn.csv");
    CHECK(csv.rfind("query,key,weight\n0,0,1\n1,0,0.5\n1,1,0.5\n", 0) == 0);
  }
  SECTION("attention map labelled with its tokens") {
    req.kind = "attention";
    req.run = "softmax0";
    req.layer = 1;
    req.head = 2;
    req.output = (dir / "attn_tokens.pdf").string();
    fig::make_figure(store, req);
    check_files(dir / "attn_tokens");
    std::string csv = read_all(dir / "attn_tokens.csv");
    CHECK(csv.rfind("query,key,weight,query_token,key_token\n0,0,1,<bos>,<bos>\n1,0,0.5, ,<bos>\n", 0) == 0);
    CHECK(csv.find("2,1,0.33333334,\",\", \n") != std::string::npos);  // a comma token is quoted
  }
  SECTION("bar: final value per variant with error bars") {
    req.kind = "bar";
    req.output = (dir / "bar.pdf").string();
    fig::make_figure(store, req);
    check_files(dir / "bar");
    std::string csv = read_all(dir / "bar.csv");
    CHECK(csv.find("sigmoid,") != std::string::npos);
  }
  SECTION("bad requests are errors, not empty figures") {
    req.output = (dir / "x.pdf").string();
    req.metric = "nope";
    CHECK_THROWS_WITH(fig::make_figure(store, req), Catch::Contains("no metric 'nope'"));
    req.metric = "loss";
    req.kind = "pie";
    CHECK_THROWS_WITH(fig::make_figure(store, req), Catch::Contains("unknown figure kind 'pie'"));
    req.kind = "line";
    req.output = (dir / "x.jpg").string();
    req.formats = {};
    CHECK_THROWS_WITH(fig::make_figure(store, req), Catch::Contains("unknown format '.jpg'"));
    req.kind = "attention";
    req.output = (dir / "x.pdf").string();
    req.layer = 0;
    CHECK_THROWS_WITH(fig::make_figure(store, req), Catch::Contains("no attention map for layer 0"));
  }
}

TEST_CASE("colour maps: viridis, magma and RdBu ends and unknown names") {
  CHECK(fig::colormap_color("viridis", 0.0).name() == "#440154");
  CHECK(fig::colormap_color("viridis", 1.0).name() == "#fde725");
  CHECK(fig::colormap_color("magma", 0.0).name() == "#000004");
  CHECK(fig::colormap_color("RdBu", 0.5).name() == "#f7f7f7");
  CHECK_THROWS_WITH(fig::colormap("jet"), Catch::Contains("viridis"));
}
