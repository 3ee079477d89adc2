#include "core/layers/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/tensor/error.h"

namespace attnlab {

namespace {
double mask_total(const float* mask, int N) {
  double s = 0;
  for (int n = 0; n < N; ++n) s += mask[n];
  if (s <= 0) throw Error("cross-entropy: the loss mask selects no position");
  return s;
}
}  // namespace

float cross_entropy_forward(float* losses, const float* logits, const int32_t* targets,
                            const float* mask, int N, int V) {
  double total = mask_total(mask, N);
  for (int n = 0; n < N; ++n)
    if (mask[n] != 0 && (targets[n] < 0 || targets[n] >= V))
      throw Error("cross-entropy: target " + std::to_string(targets[n]) + " at position " +
                  std::to_string(n) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
#pragma omp parallel for
  for (int n = 0; n < N; ++n) {
    if (mask[n] == 0) {
      losses[n] = 0;
      continue;
    }
    const float* row = logits + int64_t(n) * V;
    float mx = *std::max_element(row, row + V);
    double s = 0;
    for (int v = 0; v < V; ++v) s += std::exp(double(row[v] - mx));
    losses[n] = float(std::log(s) + mx - row[targets[n]]);
  }
  double sum = 0;
  for (int n = 0; n < N; ++n) sum += double(mask[n]) * losses[n];
  return float(sum / total);
}

void cross_entropy_backward(float* dlogits, const float* logits, const int32_t* targets,
                            const float* mask, int N, int V) {
  double total = mask_total(mask, N);
#pragma omp parallel for
  for (int n = 0; n < N; ++n) {
    float* d = dlogits + int64_t(n) * V;
    if (mask[n] == 0) {
      std::fill(d, d + V, 0.0f);
      continue;
    }
    const float* row = logits + int64_t(n) * V;
    float mx = *std::max_element(row, row + V);
    double s = 0;
    for (int v = 0; v < V; ++v) s += std::exp(double(row[v] - mx));
    float scale = float(mask[n] / total);
    for (int v = 0; v < V; ++v) d[v] = float(std::exp(double(row[v] - mx)) / s) * scale;
    d[targets[n]] -= scale;
  }
}

}  // namespace attnlab
