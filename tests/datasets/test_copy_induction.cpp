// Induction, copy and selective copy: sequence structure, scored positions and metrics.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "core/tensor/error.h"
#include "datasets/copy_task.h"
#include "datasets/induction.h"
#include "datasets/selective_copy.h"
#include "tests/datasets/task_test_helpers.h"

using namespace attnlab;

TEST_CASE("induction: BOS then one block repeated; queries are copies 2..") {
  InductionConfig c;
  c.vocab = 50;
  c.block = 25;
  c.repeats = 4;
  c.batch = 8;
  InductionTask task(c);
  CHECK(task.seq_len() == 100);
  Batch batch;
  task.next(batch);
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* x = batch.tokens.data() + b * batch.T;
    const int32_t* y = batch.targets.data() + b * batch.T;
    CHECK(x[0] == 0);
    for (int t = 1; t < batch.T; ++t) {
      CHECK(x[t] >= 1);
      CHECK(x[t] < 50);
      if (t > 25) CHECK(x[t] == x[t - 25]);
      if (t + 1 < batch.T) CHECK(y[t] == x[t + 1]);
    }
    CHECK(y[batch.T - 1] == x[batch.T - 25]);  // the last target continues the block
    const auto& q = task.meta()[b].query_positions;
    REQUIRE(q.size() == 100 - 26);
    CHECK(q.front() == 26);
    for (int t : q) CHECK(y[t] == y[t - 25]);  // predictable from the previous copy
  }
  CHECK(task.score(batch, test::perfect_logits(batch, 50))[0].value == 1.0);
  c.repeats = 1;
  CHECK_THROWS_WITH(InductionTask(c), Catch::Contains("repeats"));
  c.repeats = 2;
  c.distinct = true;
  c.block = 50;
  CHECK_THROWS_WITH(InductionTask(c), Catch::Contains("distinct"));
}

TEST_CASE("induction: distinct blocks and repeat-only loss") {
  InductionConfig c;
  c.vocab = 30;
  c.block = 29;
  c.repeats = 2;
  c.distinct = true;
  c.mask_repeats = true;
  InductionTask task(c);
  Batch batch;
  task.next(batch);
  for (int b = 0; b < batch.B; ++b) {
    std::vector<int32_t> block(batch.tokens.begin() + b * batch.T + 1,
                               batch.tokens.begin() + b * batch.T + 30);
    std::sort(block.begin(), block.end());
    CHECK(std::adjacent_find(block.begin(), block.end()) == block.end());
    for (int t = 0; t < batch.T; ++t) CHECK((batch.mask[b * batch.T + t] > 0) == (t >= 30));
  }
}

// The smallest period p with x[t] == x[t - p] for every t >= p + 1 (BOS at 0 is not part of it).
int period_of(const int32_t* x, int T, int longest) {
  for (int p = 1; p <= longest; ++p) {
    bool ok = true;
    for (int t = p + 1; t < T && ok; ++t) ok = x[t] == x[t - p];
    if (ok) return p;
  }
  return -1;
}

TEST_CASE("induction: random periods, with the val split's periods never seen in training") {
  InductionConfig c;
  c.vocab = 64;
  c.block = 8;
  c.block_max = 15;
  c.val_every = 4;    // held out: 11 and 15
  c.distinct = true;  // so that a block's period is its length
  c.len = 40;
  c.batch = 64;
  std::set<int> train_periods, val_periods;
  for (bool val : {false, true}) {
    c.val_split = val;
    InductionTask task(c);
    CHECK(task.seq_len() == 40);
    Batch batch;
    for (int i = 0; i < 4; ++i) {
      task.next(batch);
      for (int b = 0; b < batch.B; ++b) {
        const int32_t* x = batch.tokens.data() + b * batch.T;
        const int p = period_of(x, batch.T, c.block_max);
        (val ? val_periods : train_periods).insert(p);
        const auto& q = task.meta()[b].query_positions;
        REQUIRE(!q.empty());
        CHECK(q.front() == p + 1);  // scored from the second copy of this row's block on
      }
    }
    CHECK(task.score(batch, test::perfect_logits(batch, 64))[0].value == 1.0);
  }
  CHECK(train_periods == std::set<int>{8, 9, 10, 12, 13, 14});
  CHECK(val_periods == std::set<int>{11, 15});

  c.val_every = 0;  // no hold-out: both splits draw the whole range
  c.val_split = true;
  CHECK_NOTHROW(InductionTask(c));
  c.len = 16;
  CHECK_THROWS_WITH(InductionTask(c), Catch::Contains("block_max + 2"));
  c.len = 0;
  CHECK_THROWS_WITH(InductionTask(c), Catch::Contains("needs len"));
  c.len = 40;
  c.block_max = 6;
  CHECK_THROWS_WITH(InductionTask(c), Catch::Contains("block_max=6 must be >= block=8"));
  c.block_max = 9;
  c.val_every = 1;  // every period held out: training has none
  c.val_split = false;
  CHECK_THROWS_WITH(InductionTask(c), Catch::Contains("training has no period"));
}

TEST_CASE("copy: BOS data SEP data, scored on the copy") {
  CopyConfig c;
  c.vocab = 10;
  c.n = 6;
  c.batch = 5;
  CopyTask task(c);
  Batch batch;
  task.next(batch);
  REQUIRE(batch.T == 13);
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* x = batch.tokens.data() + b * batch.T;
    const int32_t* y = batch.targets.data() + b * batch.T;
    CHECK(x[0] == 0);
    CHECK(x[7] == 1);
    for (int i = 0; i < 6; ++i) {
      CHECK(x[1 + i] >= 2);
      CHECK(y[7 + i] == x[1 + i]);  // SEP and the copy predict the data in order
    }
    for (int t = 0; t < batch.T; ++t) CHECK((batch.mask[b * batch.T + t] > 0) == (t >= 7));
  }
  auto m = task.score(batch, test::perfect_logits(batch, 10));
  CHECK(m[0].value == 1.0);
  CHECK(m[1].name == "sequence_accuracy");
  CHECK(m[1].value == 1.0);
  // One wrong token in row 0 costs row 0 its sequence but only 1/6 of its tokens.
  Tensor one_off = test::one_hot_logits(batch, 10, [&](int b, int t) {
    int y = batch.targets[b * batch.T + t];
    return (b == 0 && t == 9) ? (y == 2 ? 3 : 2) : y;
  });
  m = task.score(batch, one_off);
  CHECK(m[0].value == Approx(1.0 - 1.0 / 30));
  CHECK(m[1].value == Approx(0.8));
}

TEST_CASE("selective_copy: data scattered among blanks, markers output it in order") {
  SelectiveCopyConfig c;
  c.region = 40;
  c.n = 8;
  c.batch = 6;
  SelectiveCopyTask task(c);
  Batch batch;
  task.next(batch);
  REQUIRE(batch.T == 48);
  std::vector<int> first_positions;
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* x = batch.tokens.data() + b * batch.T;
    const int32_t* y = batch.targets.data() + b * batch.T;
    std::vector<int32_t> data;
    for (int t = 0; t < 40; ++t) {
      if (x[t] != 0) {
        CHECK(x[t] >= 2);
        data.push_back(x[t]);
        if (data.size() == 1) first_positions.push_back(t);
      }
      CHECK(batch.mask[b * batch.T + t] == 0);
    }
    REQUIRE(data.size() == 8);
    for (int i = 0; i < 8; ++i) {
      CHECK(x[40 + i] == 1);
      CHECK(y[40 + i] == data[i]);
      CHECK(batch.mask[b * batch.T + 40 + i] == 1);
    }
  }
  // The spacing varies between rows (this is what makes it selective).
  std::sort(first_positions.begin(), first_positions.end());
  CHECK(first_positions.front() != first_positions.back());
  CHECK(task.score(batch, test::perfect_logits(batch, c.vocab))[1].value == 1.0);
  c.n = 41;
  CHECK_THROWS_WITH(SelectiveCopyTask(c), Catch::Contains("do not fit"));
}
