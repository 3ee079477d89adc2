// Bigram-Backcopy (Guo et al. 2024): the embedded Tiny Shakespeare statistics, the triggers,
// the backcopy rule, determinism and the backcopy metric.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "core/tensor/error.h"
#include "datasets/bigram_backcopy.h"
#include "datasets/text_corpus.h"
#include "datasets/tinyshakespeare_bigrams.h"
#include "tests/datasets/task_test_helpers.h"
#include "tests/test_support.h"

using namespace attnlab;

TEST_CASE("bigram_backcopy: the embedded table equals Tiny Shakespeare's counts") {
  std::string text = read_text_file(test::shared_file("corpora/tinyshakespeare/input.txt").string());
  const TinyShakespeareBigrams& tb = tinyshakespeare_bigrams();
  CharVocab vocab(text);
  REQUIRE(vocab.size() == 65);
  std::string chars(tb.chars);
  REQUIRE(chars.size() == 65);
  for (int i = 0; i < 65; ++i) CHECK(uint32_t((unsigned char)chars[i]) == vocab.chars()[i]);
  std::vector<int64_t> uni(65, 0);
  std::vector<std::vector<int64_t>> bi(65, std::vector<int64_t>(65, 0));
  std::vector<int32_t> ids = vocab.encode(text);
  for (size_t i = 0; i < ids.size(); ++i) {
    ++uni[ids[i]];
    if (i) ++bi[ids[i - 1]][ids[i]];
  }
  for (int a = 0; a < 65; ++a) {
    CHECK(tb.unigram[a] == uni[a]);
    for (int b = 0; b < 65; ++b) CHECK(tb.bigram[a][b] == bi[a][b]);
  }
}

TEST_CASE("bigram_backcopy: vocabulary 67 and triggers are the most frequent characters") {
  BigramBackcopyConfig c;
  BigramBackcopyTask k3(c);
  CHECK(k3.vocab_size() == 67);
  CHECK(k3.bos_token() == 65);
  CHECK(k3.delimiter_token() == 66);
  std::string trig;
  for (int t : k3.trigger_tokens()) trig += k3.token_text(t);
  CHECK(trig == "te ");  // ascending frequency: 't' 0.060, 'e' 0.085, ' ' 0.152
  c.triggers = 5;
  BigramBackcopyTask k5(c);
  trig.clear();
  for (int t : k5.trigger_tokens()) trig += k5.token_text(t);
  CHECK(trig == "aote ");
  c.triggers = 65;
  CHECK_THROWS_WITH(BigramBackcopyTask(c), Catch::Contains("triggers=65"));
}

TEST_CASE("bigram_backcopy: every token after a trigger equals the token before it") {
  BigramBackcopyConfig c;
  c.len = 128;
  c.batch = 16;
  c.seed = 3;
  BigramBackcopyTask task(c);
  Batch batch;
  int64_t triggers_seen = 0;
  for (int rep = 0; rep < 2; ++rep) {
    task.next(batch);
    REQUIRE(batch.T == 128);
    for (int b = 0; b < batch.B; ++b) {
      const int32_t* x = batch.tokens.data() + b * batch.T;
      const int32_t* y = batch.targets.data() + b * batch.T;
      CHECK(x[0] == task.bos_token());
      CHECK_FALSE(task.is_trigger(x[1]));
      for (int t = 0; t < batch.T; ++t) {
        if (t + 1 < batch.T) CHECK(y[t] == x[t + 1]);
        CHECK(batch.mask[b * batch.T + t] == 1.0f);
        if (t > 0) {
          CHECK(x[t] != task.bos_token());
          CHECK(x[t] != task.delimiter_token());
        }
        if (task.is_trigger(x[t]) && t >= 1) {
          CHECK(y[t] == x[t - 1]);
          ++triggers_seen;
        } else if (t >= 1) {
          // Otherwise a bigram step: the pair occurs in the corpus.
          CHECK(task.bigram_row(x[t])[y[t]] > 0);
        }
      }
      int n_trig = 0;
      for (int t = 0; t < batch.T; ++t) n_trig += task.is_trigger(x[t]);
      CHECK(n_trig == int(task.meta()[b].trigger_positions.size()));
    }
  }
  CHECK(triggers_seen > 16 * 2 * 20);  // ~30% of characters are triggers
}

TEST_CASE("bigram_backcopy: deterministic under a seed and seek()") {
  BigramBackcopyConfig c;
  c.len = 64;
  c.batch = 4;
  BigramBackcopyTask a(c), b(c);
  Batch x, y;
  a.next(x);
  a.next(x);
  b.seek(1);
  b.next(y);
  CHECK(x.tokens == y.tokens);
  c.seed = 1;
  BigramBackcopyTask d(c);
  d.seek(1);
  d.next(y);
  CHECK(x.tokens != y.tokens);
}

TEST_CASE("bigram_backcopy: backcopy accuracy scores trigger positions against x[t-1]") {
  BigramBackcopyConfig c;
  c.len = 64;
  c.batch = 8;
  BigramBackcopyTask task(c);
  Batch batch;
  task.next(batch);
  std::vector<TaskMetric> m = task.score(batch, test::perfect_logits(batch, 67));
  REQUIRE(m.size() == 2);
  CHECK(m[0].name == "backcopy_accuracy");
  CHECK(m[0].value == 1.0);
  CHECK(m[1].value == 1.0);
  // Always predicting the previous token is right exactly at the triggers.
  Tensor prev = test::one_hot_logits(batch, 67, [&](int b, int t) {
    return t ? batch.tokens[b * batch.T + t - 1] : 0;
  });
  m = task.score(batch, prev);
  CHECK(m[0].value == 1.0);
  CHECK(m[1].value < 0.6);
}

TEST_CASE("bigram_backcopy: statistics from another corpus file") {
  std::string dir = test::temp_dir("bb").string();
  {
    std::ofstream(dir + "/tiny.txt") << "abab cdcd eeee aaaa";
  }
  BigramBackcopyConfig c;
  c.corpus = dir + "/tiny.txt";
  c.triggers = 1;
  c.len = 32;
  BigramBackcopyTask task(c);
  CHECK(task.vocab_size() == 6 + 2);  // ' ', a..e
  CHECK(task.token_text(task.trigger_tokens()[0]) == "a");
  Batch batch;
  task.next(batch);
  for (int b = 0; b < batch.B; ++b)
    for (int t = 1; t < batch.T; ++t)
      if (task.is_trigger(batch.tokens[b * batch.T + t]))
        CHECK(batch.targets[b * batch.T + t] == batch.tokens[b * batch.T + t - 1]);
}
