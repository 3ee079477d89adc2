#include "datasets/sampling.h"

#include <numeric>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

std::vector<int> sample_distinct(Rng& rng, int n, int k) {
  if (k < 0 || k > n)
    throw Error("sample_distinct: cannot draw " + std::to_string(k) + " distinct values from " +
                std::to_string(n));
  std::vector<int> pool(n);
  std::iota(pool.begin(), pool.end(), 0);
  for (int i = 0; i < k; ++i) std::swap(pool[i], pool[i + rng.below(n - i)]);
  pool.resize(k);
  return pool;
}

int sample_weighted(Rng& rng, const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  if (!(total > 0)) throw Error("sample_weighted: all weights are zero");
  double u = rng.uniform() * total;
  int last_positive = -1;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0) continue;
    last_positive = int(i);
    if (u < weights[i]) return int(i);
    u -= weights[i];
  }
  return last_positive;  // rounding left u just above the last bucket
}

std::vector<int> sample_weighted_distinct(Rng& rng, std::vector<double> weights, int k) {
  int positive = 0;
  for (double w : weights) positive += w > 0;
  if (k < 0 || k > positive)
    throw Error("sample_weighted_distinct: cannot draw " + std::to_string(k) +
                " distinct values from " + std::to_string(positive) + " with non-zero weight");
  std::vector<int> out;
  out.reserve(k);
  for (int i = 0; i < k; ++i) {
    int j = sample_weighted(rng, weights);
    out.push_back(j);
    weights[j] = 0;
  }
  return out;
}

}  // namespace attnlab
