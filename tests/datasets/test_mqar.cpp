// MQAR invariants of Zoology's multiquery_ar, determinism, errors and the accuracy metric.
#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <set>

#include "core/tensor/error.h"
#include "datasets/mqar.h"
#include "tests/datasets/task_test_helpers.h"

using namespace attnlab;

namespace {

MqarConfig small_config() {
  MqarConfig c;
  c.vocab = 128;
  c.len = 64;
  c.kv = 8;
  c.batch = 32;
  c.seed = 7;
  return c;
}

}  // namespace

TEST_CASE("mqar: keys distinct in the lower half, values in the upper half, labels only at queries") {
  for (bool random_fill : {false, true}) {
    MqarConfig c = small_config();
    c.random_non_queries = random_fill;
    MqarTask task(c);
    Batch batch;
    for (int rep = 0; rep < 3; ++rep) {
      task.next(batch);
      REQUIRE(batch.B == c.batch);
      REQUIRE(batch.T == c.len);
      const int ctx = 2 * c.kv, half = c.vocab / 2;
      for (int b = 0; b < batch.B; ++b) {
        const int32_t* tok = batch.tokens.data() + b * c.len;
        const int32_t* tgt = batch.targets.data() + b * c.len;
        const float* mask = batch.mask.data() + b * c.len;
        const SampleMeta& m = task.meta()[b];
        CHECK(m.context.begin == 0);
        CHECK(m.context.end == ctx);
        std::set<int> keys;
        std::map<int, int> value_of;
        for (int i = 0; i < c.kv; ++i) {
          const int k = tok[2 * i], v = tok[2 * i + 1];
          CHECK(k >= 1);
          CHECK(k < half);
          CHECK(v >= half);
          CHECK(v < c.vocab);
          keys.insert(k);
          value_of[k] = v;
        }
        CHECK(int(keys.size()) == c.kv);
        REQUIRE(int(m.query_positions.size()) == c.kv);
        std::set<int> queried;
        for (int t = 0; t < c.len; ++t) {
          const bool is_query =
              std::find(m.query_positions.begin(), m.query_positions.end(), t) !=
              m.query_positions.end();
          CHECK((mask[t] > 0) == is_query);
          if (!is_query) continue;
          CHECK(t >= ctx);
          CHECK((t - ctx) % 2 == 0);  // queries sit at slot positions 2 * gap
          REQUIRE(value_of.count(tok[t]));
          CHECK(tgt[t] == value_of[tok[t]]);
          queried.insert(tok[t]);
        }
        CHECK(queried == keys);  // every key is asked exactly once
        if (!random_fill)
          for (int t = ctx; t < c.len; ++t)
            if (mask[t] == 0) CHECK(tok[t] == 0);
      }
    }
  }
}

TEST_CASE("mqar: power_a biases queries toward the start of the query region") {
  auto mean_slot = [](double power_a) {
    MqarConfig c = small_config();
    c.kv = 4;
    c.batch = 256;
    c.power_a = power_a;
    MqarTask task(c);
    Batch batch;
    task.next(batch);
    double sum = 0;
    int n = 0;
    for (const SampleMeta& m : task.meta())
      for (int t : m.query_positions) {
        sum += (t - 2 * c.kv) / 2;
        ++n;
      }
    return sum / n;
  };
  const double biased = mean_slot(0.01), uniform = mean_slot(1.0);
  // 28 slots: uniform sampling of 4 distinct slots has mean 13.5; a = 0.01 is far lower.
  CHECK(uniform == Approx(13.5).margin(1.5));
  CHECK(biased < 0.6 * uniform);
}

TEST_CASE("mqar: the same seed gives the same batches, and seek() replays any batch") {
  MqarTask a(small_config()), b(small_config());
  Batch x, y;
  std::vector<std::vector<int32_t>> first;
  for (int i = 0; i < 4; ++i) {
    a.next(x);
    b.next(y);
    CHECK(x.tokens == y.tokens);
    CHECK(x.targets == y.targets);
    CHECK(x.mask == y.mask);
    first.push_back(x.tokens);
  }
  CHECK(first[0] != first[1]);
  a.seek(2);
  a.next(x);
  CHECK(x.tokens == first[2]);
  MqarConfig other = small_config();
  other.seed = 8;
  MqarTask c(other);
  c.next(y);
  CHECK(y.tokens != first[0]);
}

TEST_CASE("mqar: impossible parameters are clear errors") {
  auto make = [](int vocab, int len, int kv, int passes = 1) {
    MqarConfig c;
    c.vocab = vocab;
    c.len = len;
    c.kv = kv;
    c.passes = passes;
    return MqarTask(c);
  };
  CHECK_THROWS_WITH(make(128, 64, 17), Catch::Contains("4*kv <= len"));
  CHECK_NOTHROW(make(128, 64, 16));
  CHECK_THROWS_WITH(make(128, 63, 4), Catch::Contains("even"));
  CHECK_THROWS_WITH(make(64, 64, 4), Catch::Contains("must exceed len"));
  CHECK_THROWS_WITH(make(128, 64, 11, 2), Catch::Contains("exceeds len"));
  CHECK_THROWS_AS(make(128, 64, 0), Error);
}

TEST_CASE("mqar: accuracy is scored at the query positions only") {
  MqarTask task(small_config());
  Batch batch;
  task.next(batch);
  const int V = task.vocab_size();
  std::vector<TaskMetric> m = task.score(batch, test::perfect_logits(batch, V));
  REQUIRE(m.size() == 1);
  CHECK(m[0].name == "accuracy");
  CHECK(m[0].value == 1.0);
  CHECK(m[0].count == batch.B * 8);
  // Right everywhere except at the queries: accuracy 0.
  Tensor wrong = test::one_hot_logits(batch, V, [&](int b, int t) {
    return batch.mask[b * batch.T + t] > 0 ? 0 : batch.targets[b * batch.T + t];
  });
  CHECK(task.score(batch, wrong)[0].value == 0.0);
  CHECK_THROWS_AS(task.score(batch, Tensor({batch.B, batch.T, V + 1})), Error);
}
