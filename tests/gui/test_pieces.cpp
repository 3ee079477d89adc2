// Known answers for the GUI's own small pieces: token labels, codecs, the map image and its
// side panels, the head metrics on hand-made attention.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/tensor/error.h"
#include "gui/color_lut.h"
#include "gui/pattern_image.h"
#include "gui/token_codec.h"

using namespace attnlab;
using namespace attnlab::gui;

namespace {
HeadPattern make(int T, float (*f)(int t, int j)) {
  HeadPattern p;
  p.T = T;
  p.w.assign(size_t(T) * T, 0.0f);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j <= t; ++j) p.w[size_t(t) * T + j] = f(t, j);
  return p;
}
}  // namespace

TEST_CASE("display_label makes tokens readable and short", "[gui]") {
  CHECK(display_label(" the") == "·the");
  CHECK(display_label("\n") == "↵");
  CHECK(display_label("a\tb") == "a→b");
  CHECK(display_label(std::string(1, '\x01')) == "<0x01>");
  CHECK(display_label("\xC3") == "<0xC3>");  // a lone UTF-8 lead byte
  CHECK(display_label("é") == "é");
  CHECK(display_label("") == "∅");
  CHECK(display_label("abcdefghijklmnop", 5) == "abcde…");
}

TEST_CASE("codecs: bytes and typed ids", "[gui]") {
  auto bytes = make_byte_codec();
  CHECK(bytes->encode("hi") == std::vector<int32_t>{'h', 'i'});
  CHECK(bytes->piece('h') == "h");
  auto ids = make_id_codec(10);
  CHECK(ids->encode(" 3 1  4 ") == std::vector<int32_t>{3, 1, 4});
  CHECK_THROWS_WITH(ids->encode("3 12"), Catch::Contains("'12'"));
  CHECK_THROWS_AS(ids->encode("x"), Error);
}

TEST_CASE("side panels: alpha_k and normalized entropy on known maps", "[gui]") {
  // Uniform causal rows: entropy 1 everywhere, alpha_k = mean over t >= k of 1/(t+1).
  const HeadPattern uni = make(6, [](int t, int) { return 1.0f / (t + 1); });
  const auto e = query_entropy(uni);
  CHECK(e[0] == 0.0);
  for (int t = 1; t < 6; ++t) CHECK(e[t] == Approx(1.0));
  const auto a = key_importance(uni);
  double expect0 = 0;
  for (int t = 0; t < 6; ++t) expect0 += 1.0 / (t + 1);
  CHECK(a[0] == Approx(expect0 / 6));
  CHECK(a[5] == Approx(1.0 / 6));
  // Every query on the first token: a perfect sink, zero entropy.
  const HeadPattern sink = make(5, [](int, int j) { return j == 0 ? 1.0f : 0.0f; });
  CHECK(key_importance(sink)[0] == Approx(1.0));
  CHECK(key_importance(sink)[3] == Approx(0.0));
  for (double v : query_entropy(sink)) CHECK(v == Approx(0.0));
}

TEST_CASE("pattern image: colour by weight, grey above the diagonal", "[gui]") {
  const HeadPattern sink = make(4, [](int, int j) { return j == 0 ? 1.0f : 0.0f; });
  const ColorScale lin = auto_scale(sink, false);
  CHECK(lin.hi == Approx(1.0));
  const QImage img = build_pattern_image(sink, lin);
  REQUIRE(img.width() == 4);
  CHECK(img.pixel(0, 3) == viridis_lut().rgb[255]);  // key 0 of query 3: weight 1
  CHECK(img.pixel(1, 3) == viridis_lut().rgb[0]);    // weight 0
  CHECK(img.pixel(3, 0) == masked_cell_rgb());       // key 3 is in query 0's future
  const ColorScale log = auto_scale(sink, true);
  CHECK(log.lo > 0);
  const QImage limg = build_pattern_image(sink, log);
  CHECK(limg.pixel(0, 3) == viridis_lut().rgb[255]);
  CHECK(limg.pixel(1, 3) == viridis_lut().rgb[0]);
}
