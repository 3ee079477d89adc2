#pragma once
// The compare-exchange rules of the warp-wide top-32 used by the statistics kernel, kept as
// plain host/device functions so the CPU suite can run the same network on an emulated warp.
#include "core/cuda/mask.h"  // ATTNLAB_HD

namespace attnlab::cuda {

// Sorting 32 values descending across the lanes of a warp: at stage (k, j) lane `lane` trades
// with lane ^ j and keeps the larger value when this returns true.
ATTNLAB_HD bool bitonic_sort_keeps_max(int lane, int j, int k) {
  return ((lane & j) == 0) == ((lane & k) == 0);
}
// Merging a bitonic sequence into descending order: at step j the lower lane keeps the max.
ATTNLAB_HD bool bitonic_merge_keeps_max(int lane, int j) { return (lane & j) == 0; }

// Budgets whose top-k mass the statistics pass reports, and the coverage level of k_p.
constexpr int kTopKBudgets = 6;
constexpr int kTopKBudget[kTopKBudgets] = {1, 2, 4, 8, 16, 32};
static_assert(kTopKBudget[5] == 1 << 5, "kernels index budget i as 1 << i");
constexpr float kCoverageP = 0.9f;
constexpr int kCoverageCensored = 33;  // k_0.9 is above 32: the top-32 window cannot tell more

}  // namespace attnlab::cuda
