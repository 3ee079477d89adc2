// Streaming memory: analysing attention at T = 8192 must stay far below the T x T x heads floats
// a materialized map would take. The measurement runs in a child process (this binary, hidden
// test below) so the parent's own peak does not mask it; it reports the peak-RSS growth while
// the registry's softmax pattern() is streamed through an AttentionAnalyzer.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <unistd.h>

#include "analysis/analyzer.h"
#include "core/attention/attention.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

constexpr int kT = 8192, kH = 1, kDh = 16;

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

TEST_CASE("streaming child: analyse one layer at T = 8192", "[.memory_child]") {
  AttnBuildContext ctx;
  ctx.n_heads = kH;
  ctx.head_dim = kDh;
  ctx.d_model = kH * kDh;
  ctx.context = kT;
  std::unique_ptr<Attention> attn = make_attention("softmax", ctx);
  const size_t n = size_t(kH) * kT * kDh;
  std::vector<float> q = test::random_normal(n, 1, 1.0f), k = test::random_normal(n, 2, 1.0f),
                     v = test::random_normal(n, 3, 1.0f);
  std::vector<int32_t> tokens(kT);
  for (int t = 0; t < kT; ++t) tokens[size_t(t)] = t % 97;
  AttnInputs in;
  in.shape = {1, kH, kT, kDh};
  in.q = q.data();
  in.k = k.data();
  in.v = v.data();
  const long before = peak_rss_kb();
  AttentionAnalyzer an(1, kH);
  an.set_tokens(tokens.data(), 1, kT);
  an.on_attention({0, attn.get(), &in});
  HeadTable tab = an.table();
  const long after = peak_rss_kb();
  REQUIRE(tab.head_vector("alpha", 0, 0).size() == size_t(kT));
  std::printf("ANALYSIS_RSS_GROWTH_KB %ld\n", after - before);
}

TEST_CASE("analysis memory at T = 8192 stays far below T x T x heads floats", "[analysis][memory]") {
  char exe[4096] = {};
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  REQUIRE(len > 0);
  const std::string cmd = std::string(exe) + " \"[.memory_child]\" 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  INFO(out);
  REQUIRE(rc == 0);
  const size_t at = out.find("ANALYSIS_RSS_GROWTH_KB ");
  REQUIRE(at != std::string::npos);
  const long growth_kb = std::stol(out.substr(at + 23));
  const double full_map_kb = double(kT) * kT * kH * sizeof(float) / 1024.0;  // 262144 KiB
  INFO("peak RSS growth " << growth_kb << " KiB; a materialized map takes " << full_map_kb << " KiB");
  CHECK(double(growth_kb) < full_map_kb / 64);
}
