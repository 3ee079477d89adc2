// The study-spec fuzz target's regression inputs and seeds, through the gcc-built parser and
// planner (tests/fuzz_replay.h).
#include "fuzz/feeds.h"
#include "tests/fuzz_replay.h"

using namespace attnlab;

TEST_CASE("fuzz inputs: study specs", "[fuzz]") {
  test::replay_fuzz_inputs("study_spec", fuzz::feed_study_spec);
}
