// The warp top-32 network of the statistics kernel, run on an emulated warp with the exact
// compare-exchange rules the kernel uses (bitonic.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <functional>

#include "core/cuda/bitonic.h"
#include "core/tensor/rng.h"

using namespace attnlab;
using namespace attnlab::cuda;

namespace {
using Warp = std::array<float, 32>;

Warp sort_desc(Warp v) {  // mirrors warp_sort_desc in reduce.cuh
  for (int k = 2; k <= 32; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      Warp next;
      for (int lane = 0; lane < 32; ++lane) {
        const float o = v[size_t(lane ^ j)];
        next[size_t(lane)] = bitonic_sort_keeps_max(lane, j, k) ? std::max(v[size_t(lane)], o) : std::min(v[size_t(lane)], o);
      }
      v = next;
    }
  return v;
}

Warp merge(const Warp& top, const Warp& tile_sorted) {  // mirrors warp_top32_merge
  Warp v;
  for (int lane = 0; lane < 32; ++lane) v[size_t(lane)] = std::max(top[size_t(lane)], tile_sorted[size_t(31 - lane)]);
  for (int j = 16; j > 0; j >>= 1) {
    Warp next;
    for (int lane = 0; lane < 32; ++lane) {
      const float o = v[size_t(lane ^ j)];
      next[size_t(lane)] = bitonic_merge_keeps_max(lane, j) ? std::max(v[size_t(lane)], o) : std::min(v[size_t(lane)], o);
    }
    v = next;
  }
  return v;
}
}  // namespace

TEST_CASE("the warp bitonic network sorts and keeps the top 32 of a stream", "[cuda][bitonic]") {
  Rng rng(12);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<float> all;
    Warp top{};
    const int tiles = 1 + int(rng.below(6));
    for (int t = 0; t < tiles; ++t) {
      Warp tile;
      for (auto& x : tile) x = rng.uniform() < 0.3 ? 0.0f : float(rng.uniform());  // zeros = masked keys
      all.insert(all.end(), tile.begin(), tile.end());
      const Warp sorted = sort_desc(tile);
      REQUIRE(std::is_sorted(sorted.begin(), sorted.end(), std::greater<float>()));
      top = merge(top, sorted);
    }
    std::sort(all.begin(), all.end(), std::greater<float>());
    for (int i = 0; i < 32; ++i) REQUIRE(top[size_t(i)] == all[size_t(i)]);
  }
}

TEST_CASE("top-k budgets are the powers of two the kernel indexes", "[cuda][bitonic]") {
  for (int i = 0; i < kTopKBudgets; ++i) CHECK(kTopKBudget[i] == 1 << i);
  CHECK(kCoverageCensored == 33);
}
