#pragma once
// One published claim as a check on a results store. A check names a metric, one or two groups of
// runs (config filters, as `attnlab results --filter`), a step, and what must hold:
//   compare    group A's value  op  group B's value            ("softmax sinks more than relu")
//   threshold  group A's value  op  a number, at step S        ("Sink_1 > 50 % by step 500")
//   ratio      mean A / mean B  >=  r                          ("window 64 gives 4x window 8")
// Compare and ratio may read B at another step (b_step), so a check can say how a metric of the
// same runs changed during training ("the BOS score gap at the end is above its value at 250").
// A compare whose B is A's runs at b_step is paired: the interval is that of the per-run
// differences A - B, which must lie above (>) or below (<) zero.
// Each run gives one value (its seed's); a group's value is their mean with a 95 % t-interval.
// The outcome is REPRODUCED only when the intervals are separated the way the claim says,
// NOT REPRODUCED when they are separated (or tied) the other way, and INCONCLUSIVE when they
// overlap, when a group has fewer than 3 seeds, or when data is missing.
#include <string>
#include <vector>

#include "experiments/store/query.h"
#include "experiments/store/store.h"

namespace attnlab::exp {

enum class Outcome { reproduced, not_reproduced, inconclusive };
const char* outcome_name(Outcome o);  // "REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE"

inline constexpr int64_t kSameStep = -2;

struct Check {
  std::string name;    // one line: what the claim says
  std::string kind;    // compare | threshold | ratio
  std::string metric;  // a scalar, or a per-head metric reduced over heads
  std::string
      metric_b;  // compare, ratio: group B reads this metric instead (e.g. a baseline's error)
  std::string reduce = "max";  // per-head metrics: max | min | mean over heads (of layer, if >= 0)
  int layer = -1;
  std::vector<Filter> a, b;  // b: compare and ratio only
  // Non-empty: only these runs count (the recipe's current plan; a store can also hold the runs
  // of an earlier version of the study, which must not be averaged in).
  std::vector<std::string> runs;
  std::string op = ">";      // compare, threshold: > or <
  double value = 0;          // threshold: the number; ratio: the least ratio r
  int64_t step = -1;         // -1: each run's last logged step; else the last logged step <= it
  int64_t b_step = kSameStep;  // compare, ratio: the step group B is read at (default: step)
  std::string published;     // the paper's numbers, quoted in the report
  std::string note;          // why this threshold (e.g. the chance level it is set against)
};

// A group's value: mean over its runs (one per seed) and the 95 % interval.
struct GroupValue {
  int n = 0;                  // runs that had a value
  double mean = 0, half = 0;  // half: ci95 half-width (NaN below 2 runs)
  std::vector<double> values;
  double lo() const { return mean - half; }
  double hi() const { return mean + half; }
};

struct CheckResult {
  Check check;
  Outcome outcome = Outcome::inconclusive;
  GroupValue a, b;
  double ratio = 0, ratio_lo = 0, ratio_hi = 0;  // ratio checks
  std::string why;  // the reason in words: "intervals overlap", "2 seeds (need 3)", ...
};

inline constexpr int kMinSeeds = 3;

// A run's value of `c.metric` at `c.step` (NaN when the run did not log it).
double run_value(Store& store, const RunRecord& run, const Check& c);
GroupValue group_value(Store& store, const std::vector<Filter>& filters, const Check& c);
CheckResult evaluate(Store& store, const Check& c);

// The recipe's verdict: all reproduced -> REPRODUCED; any not reproduced -> NOT REPRODUCED;
// otherwise (or without checks) INCONCLUSIVE.
Outcome combine(const std::vector<CheckResult>& results);

// "mean ± half (n=3)" for reports.
std::string format_group(const GroupValue& g);
std::string format_filters(const std::vector<Filter>& f);

}  // namespace attnlab::exp
