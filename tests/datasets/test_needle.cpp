// Needle in a haystack: span metadata points at the needle, the question names its key, the
// answer is its value; depth control; the text haystack.
#include <algorithm>
#include <set>
#include <catch2/catch.hpp>

#include "core/tensor/error.h"
#include "datasets/needle.h"
#include "tests/datasets/task_test_helpers.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

void check_needle_rows(const NeedleTask& task, const Batch& batch, int key_len, int value_len) {
  const int T = batch.T;
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* x = batch.tokens.data() + b * T;
    const int32_t* y = batch.targets.data() + b * T;
    const SampleMeta& m = task.meta()[b];
    CHECK(x[0] == task.bos_token());
    REQUIRE(m.needle.size() == 1 + key_len + value_len);
    REQUIRE(m.needle_value.size() == value_len);
    CHECK(x[m.needle.begin] == task.needle_token());
    CHECK(m.needle_value.end == m.needle.end);
    // The question: <q> key, at T - value_len - key_len - 1 (the last answer token is a target).
    const int q = T - value_len - key_len;
    CHECK(x[q] == task.question_token());
    for (int i = 0; i < key_len; ++i) CHECK(x[q + 1 + i] == x[m.needle.begin + 1 + i]);
    REQUIRE(int(m.query_positions.size()) == value_len);
    for (int i = 0; i < value_len; ++i) {
      const int t = m.query_positions[i];
      CHECK(t == T - value_len + i);
      CHECK(y[t] == x[m.needle_value.begin + i]);  // the answer is the needle's value
      CHECK(batch.mask[b * T + t] == 1.0f);
    }
    int scored = 0;
    for (int t = 0; t < T; ++t) scored += batch.mask[b * T + t] > 0;
    CHECK(scored == value_len);
    // Specials appear only where they belong.
    for (int t = 1; t < T; ++t) {
      if (t == m.needle.begin || t == q) continue;
      CHECK(x[t] != task.needle_token());
      CHECK(x[t] != task.question_token());
      CHECK(x[t] != task.bos_token());
    }
  }
}

}  // namespace

TEST_CASE("needle: random haystack, span metadata points at the needle tokens") {
  NeedleConfig c;
  c.len = 96;
  c.vocab = 20;
  c.batch = 16;
  NeedleTask task(c);
  Batch batch;
  task.next(batch);
  check_needle_rows(task, batch, c.key_len, c.value_len);
  CHECK(task.score(batch, test::perfect_logits(batch, 20))[1].value == 1.0);
  // Random depth: the needle moves between rows.
  int lo = 1 << 30, hi = -1;
  for (const SampleMeta& m : task.meta()) {
    lo = std::min(lo, m.needle.begin);
    hi = std::max(hi, m.needle.begin);
  }
  CHECK(hi - lo > 20);
}

TEST_CASE("needle: depth places the needle; 0 is the start, 1 the end of the haystack") {
  NeedleConfig c;
  c.len = 100;
  c.batch = 2;
  for (double depth : {0.0, 0.5, 1.0}) {
    c.depth = depth;
    NeedleTask task(c);
    Batch batch;
    task.next(batch);
    check_needle_rows(task, batch, c.key_len, c.value_len);
    const int H = task.haystack_len();
    for (const SampleMeta& m : task.meta()) {
      CHECK(m.needle.begin == 1 + int(std::lround(depth * H)));
      CHECK(m.depth == Approx(depth).margin(1.0 / H));
    }
  }
  c.len = 14;
  CHECK_THROWS_WITH(NeedleTask(c), Catch::Contains("no haystack"));
  c.len = 100;
  c.haystack = "noise";
  CHECK_THROWS_WITH(NeedleTask(c), Catch::Contains("random or text"));
}

TEST_CASE("needle: text haystack from Tiny Shakespeare, inserted after a sentence end") {
  NeedleConfig c;
  c.haystack = "text";
  c.corpus = test::shared_file("corpora/tinyshakespeare/input.txt").string();
  c.len = 256;
  c.key_len = 4;
  c.batch = 8;
  c.depth = 0.5;
  NeedleTask task(c);
  CHECK(task.vocab_size() == 65 + 3);
  Batch batch;
  task.next(batch);
  check_needle_rows(task, batch, c.key_len, c.value_len);
  for (int b = 0; b < batch.B; ++b) {
    const SampleMeta& m = task.meta()[b];
    CHECK(m.depth <= 0.5 + 1e-6);
    if (m.needle.begin > 1 && m.depth > 0) {
      const std::string before = task.token_text(batch.tokens[b * batch.T + m.needle.begin - 1]);
      CHECK((before == "." || before == "\n"));
    }
  }
}

TEST_CASE("needle: distractors are needles with other keys; only the real one answers") {
  NeedleConfig c;
  c.len = 64;
  c.vocab = 16;  // a small alphabet: distractors that contain the key must be redrawn
  c.batch = 32;
  c.distractors = 3;
  NeedleTask task(c);
  CHECK(task.haystack_len() == 64 - 5 * (1 + c.key_len + c.value_len));
  Batch batch;
  task.next(batch);
  const int T = batch.T;
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* x = batch.tokens.data() + b * T;
    const int32_t* y = batch.targets.data() + b * T;
    const SampleMeta& m = task.meta()[b];
    const int q = T - c.value_len - c.key_len;
    REQUIRE(x[q] == task.question_token());
    std::vector<int32_t> key(x + q + 1, x + q + 1 + c.key_len);
    int markers = 0, matching = 0;
    for (int t = 1; t < q; ++t) {
      if (x[t] != task.needle_token()) continue;
      ++markers;
      if (std::equal(key.begin(), key.end(), x + t + 1)) {
        ++matching;
        CHECK(t == m.needle.begin);  // the metadata names the needle the question asks for
      }
    }
    CHECK(markers == 1 + c.distractors);
    CHECK(matching == 1);
    CHECK(std::search(x + 1, x + q, key.begin(), key.end()) == x + m.needle.begin + 1);  // the key nowhere else
    for (int i = 0; i < c.value_len; ++i) CHECK(y[m.query_positions[size_t(i)]] == x[m.needle_value.begin + i]);
  }
  CHECK(task.describe().find("distractors=3") != std::string::npos);
  c.len = 40;  // len + 1 tokens = BOS + haystack + 4 needles and the question of 7 tokens each: 5 left
  CHECK(NeedleTask(c).haystack_len() == 5);
  c.len = 35;
  CHECK_THROWS_AS(NeedleTask(c), Error);
}

TEST_CASE("needle: len_min draws each sample's length; the row past it is unscored filler") {
  NeedleConfig c;
  c.len = 64;
  c.len_min = 32;
  c.value_len = 8;
  c.batch = 64;
  NeedleTask task(c);
  Batch batch;
  task.next(batch);
  REQUIRE(batch.T == 64);
  std::set<int> lengths;
  for (int b = 0; b < batch.B; ++b) {
    const int32_t* x = batch.tokens.data() + b * batch.T;
    const int32_t* y = batch.targets.data() + b * batch.T;
    const float* mask = batch.mask.data() + b * batch.T;
    const SampleMeta& m = task.meta()[b];
    REQUIRE(m.query_positions.size() == size_t(c.value_len));
    const int T = m.query_positions.back() + 1;  // this sample's own length
    lengths.insert(T);
    CHECK(T >= c.len_min);
    CHECK(T <= c.len);
    CHECK(x[0] == task.bos_token());
    CHECK(x[T - c.value_len - c.key_len] == task.question_token());  // the question ends its sample
    for (int t = 0; t < batch.T; ++t)
      CHECK(mask[t] == (t >= T - c.value_len && t < T ? 1.0f : 0.0f));
    for (int i = 0; i < c.value_len; ++i)
      CHECK(y[m.query_positions[size_t(i)]] == x[m.needle_value.begin + i]);
    CHECK(m.needle.end <= T - c.value_len - c.key_len);
  }
  CHECK(lengths.size() > 10);  // 33 lengths possible, 64 rows
  CHECK(*lengths.begin() < 40);
  CHECK(*lengths.rbegin() > 56);
  CHECK(task.describe().find("len_min=32") != std::string::npos);
  // Without len_min every row is the full length, as before.
  c.len_min = 0;
  NeedleTask fixed(c);
  fixed.next(batch);
  for (const SampleMeta& m : fixed.meta()) CHECK(m.query_positions.back() == 63);
  CHECK(fixed.describe().find("len_min") == std::string::npos);
  c.len_min = 65;
  CHECK_THROWS_WITH(NeedleTask(c), Catch::Contains("len_min must be in [0, len=64]"));
  c.len_min = 22;  // 23 tokens (len + 1) hold BOS, needle and question (1 + 2 x 11): no haystack
  CHECK_THROWS_WITH(NeedleTask(c), Catch::Contains("len_min=22 leaves no haystack"));
  c.len_min = 23;
  CHECK_NOTHROW(NeedleTask(c));
  // mask_all scores every position of the sample, none of the filler; the filler holds no
  // special token.
  c.len_min = 32;
  c.mask_all = true;
  NeedleTask all(c);
  all.next(batch);
  for (int b = 0; b < batch.B; ++b) {
    const int T = all.meta()[b].query_positions.back() + 1;
    for (int t = 0; t < batch.T; ++t) {
      CHECK(batch.mask[b * batch.T + t] == (t < T ? 1.0f : 0.0f));
      if (t > T) CHECK(batch.tokens[b * batch.T + t] >= 3);
    }
  }
}
