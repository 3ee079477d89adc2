#pragma once
// One integer per (score, key) whose order is the selectors' ranking rule: a larger score first,
// ties to the smaller key index. Ranking a row of float weights then compares plain integers
// (no two-level comparison), which is what makes per-row top-k cheap enough to run for every
// pattern and budget.
#include <bit>
#include <cstdint>

namespace attnlab {

// Larger key = better rank. -0 and +0 are one score, as float comparison has it.
inline uint64_t rank_key(float score, int index) {
  uint32_t bits = std::bit_cast<uint32_t>(score == 0.0f ? 0.0f : score);
  bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);  // monotone in the float's value
  return (uint64_t(bits) << 32) | uint64_t(~uint32_t(index));
}
inline int rank_key_index(uint64_t key) { return int(~uint32_t(key & 0xffffffffu)); }

}  // namespace attnlab
