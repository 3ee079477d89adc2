#pragma once
// Interleaved A/B timing for the benches: A B A B ... over `pairs` pairs, each side's seconds
// per pair, and the B/A ratios summarised as median and range (the project's bench format).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

namespace attnlab::bench {

inline double seconds(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct PairResult {
  std::vector<double> a, b, ratio;  // ratio = b / a
};

// Runs a() and b() alternately; prints each pair and the summary line under `label`.
inline PairResult interleave(const char* label, int pairs, const std::function<void()>& a,
                             const std::function<void()>& b, const char* a_name,
                             const char* b_name) {
  PairResult r;
  for (int p = 0; p < pairs; ++p) {
    r.a.push_back(seconds(a));
    r.b.push_back(seconds(b));
    r.ratio.push_back(r.b.back() / r.a.back());
    std::printf("  %s pair %d: %s %.3f s, %s %.3f s, ratio %.2f\n", label, p + 1, a_name,
                r.a.back(), b_name, r.b.back(), r.ratio.back());
    std::fflush(stdout);
  }
  std::printf(
      "%s: %s/%s median %.2fx (range %.2f-%.2fx) over %d pairs; median %s %.3f s, %s %.3f s\n",
      label, b_name, a_name, median(r.ratio), *std::min_element(r.ratio.begin(), r.ratio.end()),
      *std::max_element(r.ratio.begin(), r.ratio.end()), pairs, a_name, median(r.a), b_name,
      median(r.b));
  std::fflush(stdout);
  return r;
}

}  // namespace attnlab::bench
