#pragma once
// Helpers of the GPU tests: random host data, device round trips, and the comparison every
// kernel test uses (|gpu - ref| <= tol * max(1, |ref|), fp32 default 1e-4).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/cuda/device_buffer.h"
#include "core/tensor/rng.h"

namespace attnlab::cuda::test {

inline std::vector<float> random_vec(Rng& rng, size_t n, float lo = -1, float hi = 1) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniformf(lo, hi);
  return v;
}
inline std::vector<float> normal_vec(Rng& rng, size_t n, double sd = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.normal() * sd);
  return v;
}

inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what,
                         double tol = 1e-4) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(double(want[i])));
    if (!(err <= worst)) {  // also catches NaN
      worst = std::isnan(err) ? INFINITY : err;
      at = i;
    }
  }
  INFO(what << ": worst relative error " << worst << " at " << at << " (gpu " << got[at] << ", ref " << want[at]
            << ")");
  CHECK(worst <= tol);
}

}  // namespace attnlab::cuda::test

namespace attnlab::cuda::test {

// For gradients, whose entries span orders of magnitude: the worst error relative to the
// tensor's largest entry.
inline void expect_close_scaled(const std::vector<float>& got, const std::vector<float>& want, const std::string& what,
                                double tol = 1e-4) {
  REQUIRE(got.size() == want.size());
  double scale = 1e-12, worst = 0;
  for (float x : want) scale = std::max(scale, double(std::abs(x)));
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = std::abs(double(got[i]) - want[i]);
    worst = std::isnan(e) ? INFINITY : std::max(worst, e);
  }
  INFO(what << ": worst error " << worst << " relative to max |ref| " << scale);
  CHECK(worst / scale <= tol);
}

}  // namespace attnlab::cuda::test
