#include "core/layers/norm.h"

#include <cmath>
#include <vector>

namespace attnlab {

void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w,
                       const float* b, int N, int C, float eps) {
#pragma omp parallel for
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;
    float* yr = y + int64_t(n) * C;
    double m = 0;
    for (int c = 0; c < C; ++c) m += xr[c];
    m /= C;
    double var = 0;
    for (int c = 0; c < C; ++c) var += (xr[c] - m) * (xr[c] - m);
    var /= C;
    float s = float(1.0 / std::sqrt(var + eps));
    for (int c = 0; c < C; ++c) yr[c] = float(xr[c] - m) * s * w[c] + (b ? b[c] : 0.0f);
    mean[n] = float(m);
    rstd[n] = s;
  }
}

void layernorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x,
                        const float* w, const float* mean, const float* rstd, int N, int C) {
  // Row-parallel dx; the parameter gradients are reduced serially for determinism.
#pragma omp parallel for
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;
    const float* dyr = dy + int64_t(n) * C;
    float* dxr = dx + int64_t(n) * C;
    double sum_g = 0, sum_gx = 0;
    for (int c = 0; c < C; ++c) {
      float xhat = (xr[c] - mean[n]) * rstd[n];
      float g = dyr[c] * w[c];
      sum_g += g;
      sum_gx += g * xhat;
    }
    float mg = float(sum_g / C), mgx = float(sum_gx / C);
    for (int c = 0; c < C; ++c) {
      float xhat = (xr[c] - mean[n]) * rstd[n];
      dxr[c] = rstd[n] * (dyr[c] * w[c] - mg - xhat * mgx);
    }
  }
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;
    const float* dyr = dy + int64_t(n) * C;
    for (int c = 0; c < C; ++c) {
      dw[c] += dyr[c] * (xr[c] - mean[n]) * rstd[n];
      if (db) db[c] += dyr[c];
    }
  }
}

void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, int N, int C,
                     float eps) {
#pragma omp parallel for
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;
    float* yr = y + int64_t(n) * C;
    double ss = 0;
    for (int c = 0; c < C; ++c) ss += double(xr[c]) * xr[c];
    float s = float(1.0 / std::sqrt(ss / C + eps));
    for (int c = 0; c < C; ++c) yr[c] = xr[c] * s * w[c];
    rstd[n] = s;
  }
}

void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w,
                      const float* rstd, int N, int C) {
#pragma omp parallel for
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;
    const float* dyr = dy + int64_t(n) * C;
    float* dxr = dx + int64_t(n) * C;
    double dot = 0;
    for (int c = 0; c < C; ++c) dot += double(dyr[c]) * w[c] * xr[c];
    float s = rstd[n];
    float k = float(dot / C) * s * s * s;
    for (int c = 0; c < C; ++c) dxr[c] = dyr[c] * w[c] * s - k * xr[c];
  }
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;
    const float* dyr = dy + int64_t(n) * C;
    for (int c = 0; c < C; ++c) dw[c] += dyr[c] * xr[c] * rstd[n];
  }
}

}  // namespace attnlab
