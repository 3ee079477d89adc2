#include "experiments/reproduce/check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "analysis/sequence_mean.h"
#include "core/tensor/error.h"

namespace attnlab::exp {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_scalar(Store& store, const std::string& metric) {
  auto names = store.scalar_names();
  return std::find(names.begin(), names.end(), metric) != names.end();
}

// The step a check reads from a run that logged `steps`: its last one, or the last one at or
// before the check's step (a metric logged every 25 steps is read at 500 for "by step 510").
int64_t pick_step(const std::vector<int64_t>& steps, int64_t limit) {
  int64_t best = -1;
  for (int64_t s : steps)
    if ((limit < 0 || s <= limit) && s > best) best = s;
  return best;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::reproduced:
      return "REPRODUCED";
    case Outcome::not_reproduced:
      return "NOT REPRODUCED";
    default:
      return "INCONCLUSIVE";
  }
}

double run_value(Store& store, const RunRecord& run, const Check& c) {
  // A run shorter than the check's step cannot say what happened by then (smoke scale).
  if (c.step >= 0 && run.total_steps > 0 && run.total_steps < c.step) return kNaN;
  if (is_scalar(store, c.metric)) {
    std::vector<ScalarRow> rows = store.scalars(run.id, c.metric);
    std::vector<int64_t> steps;
    for (const ScalarRow& r : rows) steps.push_back(r.step);
    int64_t s = pick_step(steps, c.step);
    for (const ScalarRow& r : rows)
      if (r.step == s) return r.value;
    return kNaN;
  }
  std::vector<HeadRow> rows = store.head_metrics(run.id, c.metric);
  std::erase_if(rows, [&](const HeadRow& r) { return c.layer >= 0 && r.layer != c.layer; });
  std::vector<int64_t> steps;
  for (const HeadRow& r : rows) steps.push_back(r.step);
  int64_t s = pick_step(steps, c.step);
  std::vector<double> values;
  for (const HeadRow& r : rows)
    if (r.step == s) values.push_back(r.value);
  if (values.empty()) return kNaN;
  if (c.reduce == "max") return *std::max_element(values.begin(), values.end());
  if (c.reduce == "min") return *std::min_element(values.begin(), values.end());
  return std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

static bool counts(const Check& c, const RunRecord& r) {
  return c.runs.empty() || std::find(c.runs.begin(), c.runs.end(), r.id) != c.runs.end();
}

GroupValue group_value(Store& store, const std::vector<Filter>& filters, const Check& c) {
  GroupValue g;
  // Only finished runs count: a failed or interrupted run's last step is not the study's step.
  for (const RunRecord& r : select_runs(store, filters)) {
    if (r.status != "done" || !counts(c, r)) continue;
    double v = run_value(store, r, c);
    if (std::isfinite(v)) g.values.push_back(v);
  }
  Stat s = stat_of(g.values);
  g.n = s.n;
  g.mean = s.n ? s.mean : kNaN;
  g.half = ci95_half_width(s.sd, s.n);
  return g;
}

CheckResult evaluate(Store& store, const Check& c) {
  if (c.kind != "compare" && c.kind != "threshold" && c.kind != "ratio")
    throw Error("check '" + c.name + "': unknown kind '" + c.kind +
                "' (compare, threshold, ratio)");
  if (c.op != ">" && c.op != "<") throw Error("check '" + c.name + "': op must be > or <");
  CheckResult res;
  res.check = c;
  res.a = group_value(store, c.a, c);
  bool two = c.kind != "threshold";
  if (two) {
    Check cb = c;
    if (!c.metric_b.empty()) cb.metric = c.metric_b;
    if (c.b_step != kSameStep) cb.step = c.b_step;
    res.b = group_value(store, c.b, cb);
  }
  // Too few seeds give no interval worth reading (a t-interval over 2 values is 12.7 sd wide).
  int least = two ? std::min(res.a.n, res.b.n) : res.a.n;
  if (least == 0) {
    res.why = "no data (no finished run of a group logged " + c.metric + ")";
    return res;
  }
  if (least < kMinSeeds) {
    res.why = std::to_string(least) + " seed(s), need " + std::to_string(kMinSeeds);
    return res;
  }
  const GroupValue &a = res.a, &b = res.b;
  bool above = c.op == ">";
  if (c.kind == "compare" && c.b_step != kSameStep && format_filters(c.a) == format_filters(c.b)) {
    // The same runs at two steps: the claim is about each run's change, so the interval is that of
    // the per-run differences A - B (paired), not of two independent means.
    Check cb = c;
    cb.step = c.b_step;
    if (!c.metric_b.empty()) cb.metric = c.metric_b;
    std::vector<double> d;
    for (const RunRecord& r : select_runs(store, c.a)) {
      if (r.status != "done" || !counts(c, r)) continue;
      const double va = run_value(store, r, c), vb = run_value(store, r, cb);
      if (std::isfinite(va) && std::isfinite(vb)) d.push_back(va - vb);
    }
    Stat st = stat_of(d);
    const double half = ci95_half_width(st.sd, st.n);
    if (st.n < kMinSeeds) {
      res.why = std::to_string(st.n) + " run(s) with both steps, need " + std::to_string(kMinSeeds);
      return res;
    }
    const std::string diff = "paired difference A - B = " + fmt(st.mean) + " ± " + fmt(half) +
                             " (n=" + std::to_string(st.n) + ")";
    const double lo = st.mean - half, hi = st.mean + half;
    if (above)
      res.outcome = lo > 0    ? Outcome::reproduced
                    : hi <= 0 ? Outcome::not_reproduced
                              : Outcome::inconclusive;
    else
      res.outcome = hi < 0    ? Outcome::reproduced
                    : lo >= 0 ? Outcome::not_reproduced
                              : Outcome::inconclusive;
    res.why = diff + (res.outcome == Outcome::inconclusive            ? ", interval contains 0"
                      : (res.outcome == Outcome::reproduced) == above ? ", above 0"
                                                                      : ", below 0");
    return res;
  }
  auto decide = [&](bool claim_holds, bool opposite_holds, const std::string& claim,
                    const std::string& opposite, const std::string& neither = "intervals overlap") {
    res.outcome = claim_holds      ? Outcome::reproduced
                  : opposite_holds ? Outcome::not_reproduced
                                   : Outcome::inconclusive;
    res.why = claim_holds ? claim : opposite_holds ? opposite : neither;
  };
  if (c.kind == "compare") {
    // Ties count against the claim: two groups both at 0 do not show "A > B".
    if (above)
      decide(a.lo() > b.hi(), a.hi() <= b.lo(), "A's interval above B's",
             "A's interval at or below B's");
    else
      decide(a.hi() < b.lo(), a.lo() >= b.hi(), "A's interval below B's",
             "A's interval at or above B's");
  } else if (c.kind == "threshold") {
    std::string x = fmt(c.value);
    if (above)
      decide(a.lo() > c.value, a.hi() <= c.value, "interval above " + x,
             "interval at or below " + x, "interval contains " + x);
    else
      decide(a.hi() < c.value, a.lo() >= c.value, "interval below " + x,
             "interval at or above " + x, "interval contains " + x);
  } else {
    if (!(b.hi() > 0)) {
      res.why = "group B's value is not positive: no ratio";
      return res;
    }
    res.ratio = a.mean / b.mean;
    // The ratio's range over the two intervals (a conservative interval for mean A / mean B).
    res.ratio_lo = std::max(a.lo(), 0.0) / b.hi();
    res.ratio_hi = b.lo() > 0 ? a.hi() / b.lo() : std::numeric_limits<double>::infinity();
    std::string r = fmt(c.value);
    decide(res.ratio_lo >= c.value, res.ratio_hi < c.value, "ratio interval at or above " + r,
           "ratio interval below " + r, "ratio interval contains " + r);
  }
  return res;
}

Outcome combine(const std::vector<CheckResult>& results) {
  if (results.empty()) return Outcome::inconclusive;
  bool all = true;
  for (const CheckResult& r : results) {
    if (r.outcome == Outcome::not_reproduced) return Outcome::not_reproduced;
    all = all && r.outcome == Outcome::reproduced;
  }
  return all ? Outcome::reproduced : Outcome::inconclusive;
}

std::string format_group(const GroupValue& g) {
  if (g.n == 0) return "no data";
  std::string s = fmt(g.mean);
  if (std::isfinite(g.half)) s += " ± " + fmt(g.half);
  return s + " (n=" + std::to_string(g.n) + ")";
}

std::string format_filters(const std::vector<Filter>& f) {
  if (f.empty()) return "all runs";
  std::string s;
  for (const Filter& x : f) s += (s.empty() ? "" : ", ") + x.key + "=" + x.value;
  return s;
}

}  // namespace attnlab::exp
