// Text corpora: Gutenberg stripping, char vocabulary over UTF-8, train/val split, windows.
#include <catch2/catch.hpp>
#include <fstream>

#include "core/tensor/error.h"
#include "datasets/text_corpus.h"
#include "datasets/text_task.h"
#include "tests/test_support.h"

using namespace attnlab;

TEST_CASE("text: Gutenberg header and footer are stripped") {
  std::string t =
      "\xEF\xBB\xBFThe Project Gutenberg eBook\nlicense blah\n*** START OF THE PROJECT GUTENBERG "
      "EBOOK X ***\n\n\nChapter 1\nBody text.\n\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\n"
      "footer license\n";
  REQUIRE(strip_gutenberg(t));
  CHECK(t == "Chapter 1\nBody text.\n");
  std::string plain = "no markers here\n";
  CHECK_FALSE(strip_gutenberg(plain));
  CHECK(plain == "no markers here\n");

  std::string alice = read_text_file(test::shared_file("corpora/gutenberg/pg11.txt").string());
  const size_t before = alice.size();
  REQUIRE(strip_gutenberg(alice));
  CHECK(alice.size() < before);
  CHECK(alice.find("*** START OF") == std::string::npos);
  CHECK(alice.find("*** END OF") == std::string::npos);
  CHECK(alice.find("Project Gutenberg License") == std::string::npos);
  CHECK(alice.find("Alice was beginning to get very tired") != std::string::npos);
}

TEST_CASE("text: char vocabulary is the sorted set of code points") {
  CharVocab v("b\xE2\x80\x99" "ab");  // b ’ a b
  REQUIRE(v.size() == 3);
  CHECK(v.char_text(0) == "a");
  CHECK(v.char_text(2) == "\xE2\x80\x99");
  std::vector<int32_t> ids = v.encode("ab\xE2\x80\x99");
  CHECK(ids == std::vector<int32_t>{0, 1, 2});
  CHECK(v.decode(ids) == "ab\xE2\x80\x99");
  CHECK_THROWS_WITH(v.encode("z"), Catch::Contains("not in the vocabulary"));
}

TEST_CASE("text: split keeps the last fraction for validation") {
  SplitRange tr = split_range(1000, 0.1, false), va = split_range(1000, 0.1, true);
  CHECK(tr.begin == 0);
  CHECK(tr.end == 900);
  CHECK(va.begin == 900);
  CHECK(va.end == 1000);
  CHECK_THROWS_AS(split_range(10, 1.0, true), Error);
}

TEST_CASE("text: windows come from their split, targets are the next tokens") {
  TextConfig c;
  c.file = test::shared_file("corpora/tinyshakespeare/input.txt").string();
  c.len = 64;
  c.batch = 8;
  TextTask train(c);
  CHECK(train.vocab_size() == 65);
  CHECK_FALSE(train.stripped_gutenberg());
  c.split = "val";
  TextTask val(c);
  const auto& s = train.stream();
  const int64_t cut = int64_t(s.size()) - int64_t(double(s.size()) * 0.1);
  CHECK(val.split_tokens() == int64_t(s.size()) - cut);
  auto find_window = [&](const int32_t* w, int n) -> int64_t {
    auto it = std::search(s.begin(), s.end(), w, w + n);
    return it == s.end() ? -1 : int64_t(it - s.begin());
  };
  Batch batch;
  for (TextTask* task : {&train, &val}) {
    task->next(batch);
    for (int b = 0; b < batch.B; ++b) {
      const int32_t* x = batch.tokens.data() + b * 64;
      for (int t = 0; t + 1 < 64; ++t) CHECK(batch.targets[b * 64 + t] == x[t + 1]);
      int64_t at = find_window(x, 64);
      REQUIRE(at >= 0);
      if (task == &val) CHECK(at >= cut);
      else CHECK(at + 64 < cut + 1);
    }
  }
  Batch again;
  train.seek(0);
  train.next(again);
  val.seek(0);
  val.next(batch);
  CHECK(again.tokens != batch.tokens);
}

TEST_CASE("text: byte tokens and a stripped Gutenberg book") {
  TextConfig c;
  c.file = test::shared_file("corpora/gutenberg/pg1342.txt").string();
  c.tokenizer = "byte";
  c.len = 32;
  TextTask task(c);
  CHECK(task.vocab_size() == 256);
  CHECK(task.stripped_gutenberg());
  c.file = test::shared_file("corpora/gutenberg/jekyll.txt").string();
  c.gutenberg = "true";
  CHECK_THROWS_WITH(TextTask(c), Catch::Contains("START OF"));
  c.file = "/nonexistent/book.txt";
  CHECK_THROWS_WITH(TextTask(c), Catch::Contains("not found"));
  c.file = "corpora/tinyshakespeare/input.txt";  // found under the shared folder
  c.gutenberg = "auto";
  c.tokenizer = "sentencepiece";
  CHECK_THROWS_WITH(TextTask(c), Catch::Contains("tokenizer"));
}

TEST_CASE("text: a Hugging Face BPE tokenizer file tokenizes the corpus") {
  std::string dir = test::temp_dir("bpe").string();
  std::string body;
  for (int i = 0; i < 40; ++i) body += "The quick brown fox jumps over the lazy dog number " + std::to_string(i) + ".\n";
  {
    std::ofstream(dir + "/small.txt") << body;
  }
  TextConfig c;
  c.file = dir + "/small.txt";
  c.tokenizer = test::shared_file("tokenizers/gpt-neox/tokenizer.json").string();
  c.len = 16;
  c.batch = 4;
  TextTask task(c);
  CHECK(task.vocab_size() > 50000);
  CHECK(task.tokenizer().decode(task.stream()) == body);
  Batch batch;
  task.next(batch);
  std::vector<int32_t> row(batch.tokens.begin(), batch.tokens.begin() + 16);
  CHECK(body.find(task.tokenizer().decode(row)) != std::string::npos);
  CHECK(task.token_text(row[0]) == task.tokenizer().decode_token(row[0]));
}
