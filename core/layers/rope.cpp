#include "core/layers/rope.h"

#include <cmath>
#include <vector>

namespace attnlab {

void rope_apply(float* x, int B, int H, int T, int Dh, int rot_dims, float theta, RopeStyle style,
                bool inverse, int pos0) {
  const int half = rot_dims / 2;
  std::vector<float> cos_t(size_t(T) * half), sin_t(size_t(T) * half);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < half; ++i) {
      double freq = std::pow(double(theta), -2.0 * i / rot_dims);
      double a = double(pos0 + t) * freq;
      cos_t[size_t(t) * half + i] = float(std::cos(a));
      sin_t[size_t(t) * half + i] = float(std::sin(a)) * (inverse ? -1.0f : 1.0f);
    }
#pragma omp parallel for collapse(2)
  for (int bh = 0; bh < B * H; ++bh)
    for (int t = 0; t < T; ++t) {
      float* row = x + (int64_t(bh) * T + t) * Dh;
      const float* c = &cos_t[size_t(t) * half];
      const float* s = &sin_t[size_t(t) * half];
      for (int i = 0; i < half; ++i) {
        int a = style == RopeStyle::interleaved ? 2 * i : i;
        int b = style == RopeStyle::interleaved ? 2 * i + 1 : i + half;
        float x0 = row[a], x1 = row[b];
        row[a] = x0 * c[i] - x1 * s[i];
        row[b] = x0 * s[i] + x1 * c[i];
      }
    }
}

}  // namespace attnlab
