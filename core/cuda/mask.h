#pragma once
// Which keys a query sees, shared verbatim by the CUDA kernels, the launch plans and the CPU
// references so that the three can never disagree. Causal attention with an optional sliding
// window of `window` keys (0 = no window) plus the first `sinks` keys kept visible
// (StreamingLLM: key j is visible to query t when j <= t and (j < sinks or t - j < window)).
#if defined(__CUDACC__)
#define ATTNLAB_HD __host__ __device__ inline
#else
#define ATTNLAB_HD inline
#endif

#include <math.h>

namespace attnlab::cuda {

// ALiBi's slope m_h of query head h of H (Press et al. 2022; the score gets -m_h (t - j)): the
// geometric series 2^(-8 (h+1) / p) over the largest power of two p <= H, and for the heads
// beyond p every other slope of the series for 2p, as core/attention/softmax.cpp (Alibi).
ATTNLAB_HD float alibi_slope(int h, int H) {
  int p = 1;
  while (p * 2 <= H) p *= 2;
  const double e = h < p ? -8.0 * (h + 1) / p : -8.0 * (2 * (h - p) + 1) / (2.0 * p);
  return float(exp2(e));
}

ATTNLAB_HD bool key_visible(int t, int j, int window, int sinks) {
  if (j > t || j < 0) return false;
  if (window <= 0) return true;
  return j < sinks || t - j < window;
}

// n_t: how many keys query t sees (the log(n_t) of normalized entropy).
ATTNLAB_HD int visible_count(int t, int window, int sinks) {
  if (window <= 0) return t + 1;
  int lo = t - window + 1;  // first key of the band
  if (lo < 0) lo = 0;
  int s = sinks < lo ? sinks : lo;  // sink keys that lie before the band
  return (t - lo + 1) + s;
}

// How many of T queries see key k (the divisor of Gu et al.'s alpha_k).
ATTNLAB_HD int queries_seeing_key(int k, int T, int window, int sinks) {
  if (k < 0 || k >= T) return 0;
  if (window <= 0 || k < sinks) return T - k;
  int last = k + window - 1;  // the last query whose band still holds k
  if (last > T - 1) last = T - 1;
  return last - k + 1;
}

// True when some query in [q0, q1) sees some key in [k0, k1): kernels skip the other tiles.
ATTNLAB_HD bool tile_has_visible(int q0, int q1, int k0, int k1, int window, int sinks) {
  if (q0 >= q1 || k0 >= k1 || k0 > q1 - 1) return false;
  if (window <= 0 || k0 < sinks) return true;
  // The pair closest to the diagonal: the largest key and the first query not before it.
  int j = k1 - 1 < q1 - 1 ? k1 - 1 : q1 - 1;
  int t = q0 > j ? q0 : j;
  return t - j < window;
}

}  // namespace attnlab::cuda
