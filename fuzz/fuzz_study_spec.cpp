// Study specs (experiments/spec/*): TOML parsing and shape checks, then the plan that resolves
// and validates every run (each run's attention specs and task are built once).
#include "experiments/spec/plan.h"
#include "experiments/spec/spec.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_study_spec(const uint8_t* data, size_t size) {
  exp::StudySpec spec = exp::parse_spec_string(as_string(data, size), "fuzz.toml");
  exp::plan_runs(spec);
}

ATTNLAB_FUZZ_ENTRY(feed_study_spec)
