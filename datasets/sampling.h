#pragma once
// Small sampling routines the generators share, all driven by attnlab::Rng.
#include <cstdint>
#include <vector>

namespace attnlab {

class Rng;

// k distinct integers from [0, n), in random order (partial Fisher-Yates).
std::vector<int> sample_distinct(Rng& rng, int n, int k);

// An index drawn with probability proportional to weights[i] (weights >= 0, not all zero).
int sample_weighted(Rng& rng, const std::vector<double>& weights);

// k distinct indices drawn one after another with probability proportional to the remaining
// weights: the distribution numpy.random.choice(replace=False, p=weights) samples from.
std::vector<int> sample_weighted_distinct(Rng& rng, std::vector<double> weights, int k);

}  // namespace attnlab
