#include "analysis/sparse/selection_stream.h"

#include <algorithm>
#include <numeric>

#include "analysis/row_metrics.h"
#include "core/tensor/error.h"

namespace attnlab {

void stream_selections(const SelectionRun& run, const std::vector<SparseSelector*>& selectors,
                       const SelectionVisitor& visit) {
  const AttnInputs& in = *run.inputs;
  const AttnShape& s = in.shape;
  const int T = s.T;
  const int limit = run.limit > 0 ? std::min(run.limit, T) : T;
  const bool normalized = run.attention->normalized_rows();
  auto copy_row = [&](int t, const float* row, float* dst) {
    std::copy(row, row + t + 1, dst);
    if (!normalized) proxy_normalize(dst, t + 1);
  };

  int lookback = 0;
  int64_t chunk = 1;
  for (SparseSelector* sel : selectors) {
    lookback = std::max(lookback, sel->lookback());
    chunk = std::lcm(chunk, int64_t(sel->query_block(run.causal)));
  }
  lookback = std::min(lookback, limit);
  chunk = std::min<int64_t>(chunk, T);
  // A block size that does not divide the others could make the chunk T rows long: a T x T buffer.
  if (chunk > 4096)
    throw Error(
        "sparse patterns: the block sizes' least common multiple exceeds 4096 rows; use block "
        "sizes that divide each other");

  std::vector<std::vector<float>> est(size_t(lookback), std::vector<float>(size_t(T), 0.0f));
  if (lookback > 0)
    run.attention->pattern_rows(in, run.b, run.h, limit - lookback, [&](int t, const float* row) {
      if (t < limit)
        copy_row(t, row, est[size_t(t - (limit - lookback))].data());
    });

  HeadView v;
  const int64_t base = (int64_t(run.b) * s.H + run.h) * s.head_size();
  v.q = in.q + base;
  v.k = in.k + base;
  v.T = T;
  v.Dh = s.Dh;
  v.mask = run.mask;
  v.limit = limit;
  v.causal = run.causal;
  v.est_rows = &est;
  v.channels = run.channels;
  for (SparseSelector* sel : selectors) sel->begin_head(v);

  std::vector<float> buf(size_t(chunk) * T);
  std::vector<const float*> rows(static_cast<size_t>(chunk));
  for (int64_t i = 0; i < chunk; ++i) rows[size_t(i)] = buf.data() + i * T;
  std::vector<std::vector<int>> keys(selectors.size());
  int t0 = 0, next = 0;
  auto flush = [&](int n) {
    for (SparseSelector* sel : selectors) sel->begin_chunk(t0, n, rows.data());
    for (int i = 0; i < n; ++i) {
      for (size_t k = 0; k < selectors.size(); ++k)
        selectors[k]->select(t0 + i, rows[size_t(i)], keys[k]);
      visit(t0 + i, rows[size_t(i)], keys);
    }
    t0 += n;
  };
  run.attention->pattern(in, run.b, run.h, [&](int t, const float* row) {
    if (t != next++) throw Error("sparse patterns: pattern rows arrived out of order");
    copy_row(t, row, buf.data() + int64_t(t - t0) * T);
    if (t - t0 + 1 == chunk || t == T - 1) flush(t - t0 + 1);
  });
}

}  // namespace attnlab
