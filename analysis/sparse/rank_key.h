#pragma once
// One integer per (score, key) whose order is the selectors' ranking rule: a larger score first,
// ties to the smaller key index. Ranking a row of float weights then compares plain integers
// (no two-level comparison), which is what makes per-row top-k cheap enough to run for every
// pattern and budget.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <vector>

namespace attnlab {

// Larger key = better rank. -0 and +0 are one score, as float comparison has it.
inline uint64_t rank_key(float score, int index) {
  uint32_t bits = std::bit_cast<uint32_t>(score == 0.0f ? 0.0f : score);
  bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);  // monotone in the float's value
  return (uint64_t(bits) << 32) | uint64_t(~uint32_t(index));
}
inline int rank_key_index(uint64_t key) { return int(~uint32_t(key & 0xffffffffu)); }

// A double's value as an unsigned integer in the same order (-0 and +0 one value), for scores
// that need all 64 bits: the index then breaks ties separately (top_by_score).
inline uint64_t order_bits(double score) {
  const uint64_t bits = std::bit_cast<uint64_t>(score == 0.0 ? 0.0 : score);
  return (bits >> 63) ? ~bits : (bits | (uint64_t(1) << 63));
}

// The k-th largest of keys[0..n) (1 <= k <= n), keys unchanged. A radix select: each pass
// finds the highest bit on which the keys still in the running differ, counts the 8 bits from
// there and keeps the bucket holding the k-th. A few streaming passes with no data-dependent
// branches; std::nth_element's comparisons mispredict on rows of near-equal weights, and every
// selector and budget ranks every row.
inline uint64_t kth_largest(const uint64_t* keys, size_t n, size_t k) {
  thread_local std::vector<uint64_t> bufs[2];
  if (n <= 64) {  // too few for the histograms to pay
    bufs[0].assign(keys, keys + n);
    std::nth_element(bufs[0].begin(), bufs[0].begin() + (k - 1), bufs[0].end(),
                     std::greater<uint64_t>());
    return bufs[0][k - 1];
  }
  const uint64_t* cur = keys;  // the keys still in the running
  for (int which = 0;; which ^= 1) {
    uint64_t differ = 0;
    for (size_t i = 0; i < n; ++i) differ |= cur[i] ^ cur[0];
    if (differ == 0) return cur[0];  // all equal
    const int shift = std::max(0, 63 - std::countl_zero(differ) - 7);
    std::array<uint32_t, 256> count{};
    for (size_t i = 0; i < n; ++i) ++count[(cur[i] >> shift) & 0xff];
    uint64_t b = 255;
    while (k > count[b]) k -= count[b--];
    std::vector<uint64_t>& next = bufs[which];
    next.resize(size_t(count[b]) + 1);  // + 1: the branch-free copy below writes one past
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
      next[m] = cur[i];
      m += ((cur[i] >> shift) & 0xff) == b;
    }
    cur = next.data();
    n = m;
  }
}

}  // namespace attnlab
