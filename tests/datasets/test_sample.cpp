// render_sample: what `attnlab sample` prints.
#include <catch2/catch.hpp>

#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "datasets/task_sample.h"

using namespace attnlab;

namespace {

int count_of(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("sample: scored positions are marked with their targets") {
  auto task = make_task("mqar(vocab=64,len=32,kv=4,batch=2)");
  Batch batch;
  task->next(batch);
  std::string s = render_sample(*task, batch, 1);
  CHECK(count_of(s, "[[") == 1 + 4);  // the legend, then one per query
  const int q = task->meta()[1].query_positions[0];
  CHECK(s.find("[[" + std::to_string(batch.tokens[batch.T + q]) + " -> " +
               std::to_string(batch.targets[batch.T + q]) + "]]") != std::string::npos);
  CHECK(s.find("key-value context: [0, 8)") != std::string::npos);
  CHECK_THROWS_AS(render_sample(*task, batch, 2), Error);
}

TEST_CASE("sample: Bigram-Backcopy reads as text with the triggers marked") {
  auto task = make_task("bigram_backcopy(len=48,batch=1)");
  Batch batch;
  task->next(batch);
  std::string s = render_sample(*task, batch, 0);
  CHECK(s.find("<s_0>") != std::string::npos);
  CHECK(count_of(s, "[[") == 1 + int(task->meta()[0].trigger_positions.size()));
  CHECK(s.find("trigger positions") != std::string::npos);
}

TEST_CASE("sample: needle and regression samples show their metadata") {
  auto needle = make_task("needle(len=40,batch=1,depth=0.5)");
  Batch batch;
  needle->next(batch);
  std::string s = render_sample(*needle, batch, 0);
  CHECK(s.find("<needle>") != std::string::npos);
  CHECK(s.find("needle: [") != std::string::npos);
  auto reg = make_task("linear_regression(dim=3,points=4,batch=1)");
  reg->next(batch);
  s = render_sample(*reg, batch, 0);
  CHECK(count_of(s, "\n") == 5);  // header + 4 points
  CHECK(s.find("least-squares") != std::string::npos);
}
