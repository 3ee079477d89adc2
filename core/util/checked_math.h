#pragma once
// Sizes read from files are multiplied and added before anything is allocated or read. A hostile
// file can pick factors whose product wraps past 2^64 and then passes a later size check, so
// these report overflow instead of wrapping; the caller names the file and field in its error.
#include <cstdint>
#include <optional>
#include <vector>

namespace attnlab {

inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The element count of a shape; nullopt when a dimension is negative or the product overflows.
inline std::optional<uint64_t> checked_numel(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    std::optional<uint64_t> next = checked_mul(n, static_cast<uint64_t>(d));
    if (!next) return std::nullopt;
    n = *next;
  }
  return n;
}

}  // namespace attnlab
