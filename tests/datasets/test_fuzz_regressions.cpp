// The task-spec fuzz target's regression inputs and seeds, through the gcc-built parser
// (tests/fuzz_replay.h).
#include "fuzz/feeds.h"
#include "tests/fuzz_replay.h"

using namespace attnlab;

TEST_CASE("fuzz inputs: task specs", "[fuzz]") {
  test::replay_fuzz_inputs("task_spec", fuzz::feed_task_spec);
}
