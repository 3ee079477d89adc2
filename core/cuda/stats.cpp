#include "core/cuda/stats.h"

#include <algorithm>
#include <cmath>

#include "core/cuda/mask.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

void StreamStats::resize(const AttnDims& d) {
  const size_t n = size_t(d.B) * d.Hq * d.T;
  for (auto* v : {&col_mass, &entropy, &prev_token, &induction, &duplicate, &row_max, &cover}) v->assign(n, 0.0f);
  topk_mass.assign(n * kTopKBudgets, 0.0f);
}

HeadSummary summarize_head(const AttnDims& d, const StreamStats& s, int b, int h) {
  validate(d);
  if (b < 0 || b >= d.B || h < 0 || h >= d.Hq)
    throw Error("summarize_head: (b=" + std::to_string(b) + ", h=" + std::to_string(h) +
                ") outside B=" + std::to_string(d.B) + ", Hq=" + std::to_string(d.Hq));
  const size_t n = size_t(d.B) * d.Hq * d.T;
  if (s.col_mass.size() != n || s.entropy.size() != n || s.prev_token.size() != n ||
      s.induction.size() != n || s.duplicate.size() != n || s.row_max.size() != n || s.cover.size() != n ||
      s.topk_mass.size() != n * kTopKBudgets)
    throw Error("summarize_head: statistics are not sized B*Hq*T = " + std::to_string(n));
  const size_t base = (size_t(b) * d.Hq + h) * d.T;
  HeadSummary out;
  out.alpha.resize(size_t(d.T));
  for (int k = 0; k < d.T; ++k)
    out.alpha[k] = s.col_mass[base + k] / float(d.T - k);  // Gu et al.: T - k under every mask
  out.sink_mass = s.col_mass[base] / double(d.T);
  double ent = 0;
  int ent_rows = 0;
  std::vector<double> cover_frac;
  for (int t = 0; t < d.T; ++t) {
    const int nt = visible_count(t, d.window, d.sinks);
    if (nt >= 2) {
      ent += s.entropy[base + t] / std::log(double(nt));
      ++ent_rows;
    }
    out.top1 += s.row_max[base + t];
    for (int i = 0; i < kTopKBudgets; ++i) out.topk[i] += s.topk_mass[(base + t) * kTopKBudgets + i];
    if (t >= 1) {
      const float k = s.cover[base + t];
      if (k >= kCoverageCensored) out.cover_censored += 1;
      cover_frac.push_back(std::min(double(k), double(nt)) / nt);
    }
    if (t >= 1) {
      out.prev_token += s.prev_token[base + t];
      out.induction += s.induction[base + t];
      out.duplicate += s.duplicate[base + t];
    }
  }
  out.norm_entropy = ent_rows ? ent / ent_rows : 0.0;
  out.top1 /= d.T;
  for (double& v : out.topk) v /= d.T;
  if (!cover_frac.empty()) {
    std::sort(cover_frac.begin(), cover_frac.end());
    const size_t m = cover_frac.size();
    out.cover_median = m % 2 ? cover_frac[m / 2] : 0.5 * (cover_frac[m / 2 - 1] + cover_frac[m / 2]);
    out.cover_censored /= double(m);
  }
  if (d.T > 1) {
    out.prev_token /= d.T - 1;
    out.induction /= d.T - 1;
    out.duplicate /= d.T - 1;
  }
  return out;
}

}  // namespace attnlab::cuda
