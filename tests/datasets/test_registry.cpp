// The task registry: specs, overrides, errors that list what exists, and properties every
// task must have (shape, determinism, seek, a metric).
#include <catch2/catch.hpp>

#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "tests/datasets/task_test_helpers.h"

using namespace attnlab;

TEST_CASE("registry: spec strings and overrides build tasks") {
  auto t = make_task("mqar(vocab=256, len=64, kv=4, batch=3)");
  CHECK(t->name() == "mqar");
  CHECK(t->vocab_size() == 256);
  CHECK(t->batch_size() == 3);
  CHECK(t->describe().find("kv=4") != std::string::npos);
  auto u = make_task("mqar", {{"batch", "5"}, {"seed", "9"}});
  CHECK(u->batch_size() == 5);
  auto v = make_task("copy(n=4)", {{"n", "7"}});
  CHECK(v->seq_len() == 15);
}

TEST_CASE("registry: unknown tasks and parameters list what exists") {
  CHECK_THROWS_WITH(make_task("mqarr"), Catch::Contains("unknown task 'mqarr'") &&
                                            Catch::Contains("bigram_backcopy") &&
                                            Catch::Contains("linear_regression"));
  CHECK_THROWS_WITH(make_task("mqar(pairs=4)"),
                    Catch::Contains("no parameter 'pairs'") && Catch::Contains("kv"));
  CHECK_THROWS_WITH(make_task("mqar(kv=four)"), Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(make_task("mqar(kv=4"), Catch::Contains("')'"));
  CHECK_THROWS_WITH(make_task("mqar(kv)"), Catch::Contains("key=value"));
  CHECK_THROWS_WITH(make_task("mqar(kv=1,kv=2)"), Catch::Contains("twice"));
  CHECK_THROWS_WITH(make_task("mqar(len=64,kv=17,vocab=128)"), Catch::Contains("4*kv <= len"));
  CHECK_THROWS_WITH(make_task("induction(distinct=maybe)"), Catch::Contains("boolean"));
}

TEST_CASE("registry: every task builds with small params, is deterministic and seekable") {
  const std::map<std::string, std::string> small = {
      {"bigram_backcopy", "bigram_backcopy(len=32,batch=2)"},
      {"mqar", "mqar(vocab=128,batch=2)"},
      {"induction", "induction(block=5,batch=2)"},
      {"needle", "needle(len=48,batch=2)"},
      {"selective_copy", "selective_copy(region=20,n=4,batch=2)"},
      {"copy", "copy(n=5,batch=2)"},
      {"linear_regression", "linear_regression(dim=3,points=5,batch=2)"},
      {"text", "text(len=16,batch=2)"},
  };
  REQUIRE(task_catalog().size() == small.size());
  for (const TaskInfo& info : task_catalog()) {
    INFO("task " << info.name);
    REQUIRE(small.count(info.name));
    CHECK_FALSE(info.summary.empty());
    bool has_seed = false, has_batch = false;
    for (const TaskParamInfo& p : info.params) {
      has_seed |= p.name == "seed";
      has_batch |= p.name == "batch";
      CHECK_FALSE(p.help.empty());
    }
    CHECK(has_seed);
    CHECK(has_batch);
    auto a = make_task(small.at(info.name), {{"seed", "4"}});
    auto b = make_task(small.at(info.name), {{"seed", "4"}});
    CHECK(a->name() == info.name);
    Batch x, y, z;
    a->next(x);
    a->next(x);
    b->seek(1);
    b->next(y);
    CHECK(x.B == 2);
    CHECK(x.T == a->seq_len());
    CHECK(x.tokens == y.tokens);
    CHECK(x.targets == y.targets);
    CHECK(x.mask == y.mask);
    CHECK(x.features == y.features);
    CHECK(int(a->meta().size()) == 2);
    // A perfect model scores 1 on every token task's first metric.
    if (a->vocab_size() > 0) {
      for (int32_t tok : x.tokens) {
        CHECK(tok >= 0);
        CHECK(tok < a->vocab_size());
      }
      auto m = a->score(x, test::perfect_logits(x, a->vocab_size()));
      REQUIRE_FALSE(m.empty());
      CHECK(m[0].value == 1.0);
    }
    auto c = make_task(small.at(info.name), {{"seed", "5"}});
    c->seek(1);
    c->next(z);
    CHECK((z.tokens != x.tokens || z.features != x.features));
  }
}

TEST_CASE("registry: every task accepts len, as the trainer and sweeps set it") {
  for (const TaskInfo& info : task_catalog()) {
    bool has_len = false;
    for (const TaskParamInfo& p : info.params) has_len |= p.name == "len";
    INFO("task " << info.name);
    CHECK(has_len);
  }
  auto ind = make_task("induction(block=5,len=23)");
  CHECK(ind->seq_len() == 23);
  Batch b;
  ind->next(b);
  for (int t = 6; t < 23; ++t) CHECK(b.tokens[t] == b.tokens[t - 5]);
  CHECK(make_task("copy(len=13)")->seq_len() == 13);
  CHECK_THROWS_WITH(make_task("copy(len=12)"), Catch::Contains("odd"));
  CHECK(make_task("selective_copy(n=4,len=30)")->seq_len() == 30);
  CHECK_THROWS_WITH(make_task("selective_copy(n=4,len=6)"), Catch::Contains("do not fit"));
  CHECK(make_task("linear_regression(len=10)")->seq_len() == 10);
  CHECK_THROWS_WITH(make_task("linear_regression(len=9)"), Catch::Contains("even"));
  CHECK_THROWS_WITH(make_task("induction(block=5,len=6)"), Catch::Contains("block + 2"));
}
