// Hugging Face tokenizer.json: the GPT-NeoX byte-level BPE from ../shared (known encodings read
// off its vocab by hand, round trips over corpus lines) and a hand-made metaspace BPE.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/tensor/error.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "tests/test_support.h"

using namespace attnlab;
using Catch::Matchers::Contains;
using Ids = std::vector<int32_t>;

namespace {

const Tokenizer& neox() {
  static std::unique_ptr<Tokenizer> t = load_hf_tokenizer(test::shared_file("tokenizers/gpt-neox/tokenizer.json").string());
  return *t;
}

}  // namespace

TEST_CASE("GPT-2 split pattern", "[io][tokenizer]") {
  using V = std::vector<std::string>;
  CHECK(gpt2_pretokenize("Hello world") == V{"Hello", " world"});
  CHECK(gpt2_pretokenize("it's 42!") == V{"it", "'s", " 42", "!"});
  CHECK(gpt2_pretokenize("a  b") == V{"a", " ", " b"});          // \s+(?!\S) leaves one space
  CHECK(gpt2_pretokenize("x\n\ny") == V{"x", "\n", "\n", "y"});  // a lone \n before a word
  CHECK(gpt2_pretokenize("end   ") == V{"end", "   "});          // trailing run stays whole
  CHECK(gpt2_pretokenize(" ...\"quoted\"") == V{" ...\"", "quoted", "\""});
  CHECK(gpt2_pretokenize("naïve café 日本語") == V{"naïve", " café", " 日本語"});  // \p{L} beyond ASCII
  CHECK(gpt2_pretokenize("x²³") == V{"x", "²³"});                   // \p{N} includes superscripts
  CHECK(gpt2_pretokenize("'S") == V{"'", "S"});                    // contractions are lowercase only
}

TEST_CASE("GPT-NeoX tokenizer.json: known encodings", "[io][tokenizer]") {
  const Tokenizer& t = neox();
  CHECK(t.kind() == "byte-level-bpe");
  CHECK(t.vocab_size() == 50277);
  CHECK(t.bos_policy() == "none");  // Pythia/NeoX add no BOS
  CHECK(t.bos_id() == 0);           // <|endoftext|>
  CHECK(t.eos_id() == 0);
  // Ids read from the file's vocab: "Hello"=12092, "Ġworld"=1533, "ĠWorld"=3645, "Ġ123"=15567,
  // "it"=262, "'s"=434, "a"=66, "b"=67, the added two-space token = 50276, "ĠcafÃ©"=36241,
  // "Ċ"=187, "world"=10186, "<|endoftext|>"=0.
  CHECK(t.encode("Hello world", false) == Ids{12092, 1533});
  CHECK(t.encode("Hello World", false) == Ids{12092, 3645});
  CHECK(t.encode(" 123", false) == Ids{15567});
  CHECK(t.encode("it's", false) == Ids{262, 434});
  CHECK(t.encode("a  b", false) == Ids{66, 50276, 67});  // runs of spaces are added tokens, split first
  CHECK(t.encode(" café", false) == Ids{36241});
  CHECK(t.encode(" cafe\xCC\x81", false) == Ids{36241});  // NFC composes e + U+0301
  CHECK(t.encode("Hello\n\nworld", false) == Ids{12092, 187, 187, 10186});
  CHECK(t.encode("<|endoftext|>Hello", false) == Ids{0, 12092});
  CHECK(t.decode_token(1533) == " world");
  CHECK(t.decode(Ids{12092, 1533}) == "Hello world");
  CHECK_THROWS_WITH(t.decode(Ids{60000}), Contains("60000"));
}

TEST_CASE("GPT-NeoX tokenizer.json: corpus lines round-trip exactly", "[io][tokenizer]") {
  const Tokenizer& t = neox();
  int lines = 0;
  size_t tokens = 0, bytes = 0;
  for (const char* rel : {"corpora/tinyshakespeare/input.txt", "corpora/gutenberg/pg1342.txt", "corpora/gutenberg/pg2701.txt"}) {
    std::ifstream in(test::shared_file(rel));
    std::string line;
    for (int n = 0; n < 400 && std::getline(in, line); ++n) {
      line += '\n';
      Ids ids = t.encode(line, false);
      INFO(rel << ": " << line);
      REQUIRE(t.decode(ids) == line);
      std::string concat;
      for (int32_t id : ids) concat += t.decode_token(id);
      REQUIRE(concat == line);
      ++lines;
      tokens += ids.size();
      bytes += line.size();
    }
  }
  CHECK(lines == 1200);
  // English BPE compresses: fewer tokens than bytes by a wide margin.
  CHECK(tokens * 3 < bytes);
}

TEST_CASE("pre-tokenizer sequences: Digits before ByteLevel (SmolLM style); Split refused", "[io][tokenizer]") {
  std::ifstream in(test::shared_file("tokenizers/gpt-neox/tokenizer.json"));
  nlohmann::json j = nlohmann::json::parse(in);
  auto dir = test::temp_dir("hf_digits");
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}},
                                           {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}};
  std::ofstream(dir / "tokenizer.json") << j.dump();
  auto t = load_hf_tokenizer((dir / "tokenizer.json").string());
  // "a"=66 and the digits "0".."9" = 17..26 in the NeoX vocab; " 123" alone would be one token.
  CHECK(t->encode("a2024", false) == Ids{66, 19, 17, 19, 21});
  CHECK(t->encode("Hello world", false) == Ids{12092, 1533});
  CHECK(t->decode(t->encode("in 1984, 42 apples", false)) == "in 1984, 42 apples");
  j["pre_tokenizer"]["pretokenizers"][0] = {{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}"}}}, {"behavior", "Isolated"}};
  std::ofstream(dir / "tokenizer.json") << j.dump();
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "tokenizer.json").string()), Contains("Split pre-tokenizer"));
}

TEST_CASE("metaspace BPE tokenizer.json (Llama-style) with byte fallback", "[io][tokenizer]") {
  auto dir = test::temp_dir("hf_tok");
  nlohmann::json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    vocab[buf] = 3 + b;
  }
  const char* pieces[] = {"\xE2\x96\x81", "h", "e", "l", "o", "w", "r", "d", "ll", "he", "hell", "hello",
                          "\xE2\x96\x81hello", "\xE2\x96\x81w", "or", "\xE2\x96\x81wor", "\xE2\x96\x81world"};
  int id = 259;
  for (const char* p : pieces) vocab[p] = id++;
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                        {{"id", 1}, {"content", "<s>"}, {"special", true}},
                        {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
                                                             {{"type", "Replace"}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "Replace"}}, {{"type", "ByteFallback"}}, {{"type", "Fuse"}}, {{"type", "Strip"}}}}}},
      {"model", {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab},
                 {"merges", {"l l", "h e", "he ll", "hell o", "\xE2\x96\x81 hello", "\xE2\x96\x81 w", "o r", "\xE2\x96\x81w or"}}}}};
  // "▁world" is in the vocab but no merge builds it: BPE only reaches pieces through merges.
  std::ofstream(dir / "tokenizer.json") << j.dump();
  auto t = load_hf_tokenizer(dir.string());
  CHECK(t->kind() == "metaspace-bpe");
  CHECK(t->bos_policy() == "prepend");
  CHECK(t->bos_id() == 1);
  int hello = vocab["\xE2\x96\x81hello"], sp = vocab["\xE2\x96\x81"];
  int wor = vocab["\xE2\x96\x81wor"], l = vocab["l"], d = vocab["d"];
  CHECK(t->encode("hello", true) == Ids{1, hello});
  CHECK(t->encode("hello world", false) == Ids{hello, wor, l, d});
  // 'é' is not in the vocab: its two UTF-8 bytes come out as <0xC3> <0xA9>.
  CHECK(t->encode("hello é", false) == Ids{hello, sp, 3 + 0xC3, 3 + 0xA9});
  for (std::string s : {"hello world", "hello é", "hello  hello"}) CHECK(t->decode(t->encode(s, true)) == s);
  // The Prepend normalizer runs on every piece between added tokens, as in the tokenizers library.
  CHECK(t->encode("hello</s>hello", false) == Ids{hello, 2, hello});

  // The newer form: a Metaspace pre-tokenizer that prepends only to the first piece and splits
  // words at U+2581, so no merge can cross a word boundary.
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}, {"split", true}};
  j["decoder"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}, {"split", true}};
  j["model"]["merges"].push_back("\xE2\x96\x81 \xE2\x96\x81");
  j["model"]["vocab"]["\xE2\x96\x81\xE2\x96\x81"] = 300;
  std::ofstream(dir / "tokenizer.json") << j.dump();
  auto m = load_hf_tokenizer(dir.string());
  CHECK(m->kind() == "metaspace-bpe");
  CHECK(m->encode("hello</s>hello", false) == Ids{hello, 2, vocab["hello"]});
  CHECK(m->encode("hello  hello", false) == Ids{hello, sp, hello});  // "▁▁" never forms across words
  CHECK(m->decode(m->encode("hello  hello", true)) == "hello  hello");
}

TEST_CASE("malformed tokenizer.json files give clear errors", "[io][tokenizer]") {
  auto dir = test::temp_dir("hf_tok_bad");
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "missing.json").string()), Contains("missing.json") && Contains("cannot open"));
  std::ofstream(dir / "a.json") << "{ not json";
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "a.json").string()), Contains("not valid JSON"));
  std::ofstream(dir / "b.json") << R"({"model": {"type": "Unigram", "vocab": []}})";
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "b.json").string()), Contains("only BPE"));
  std::ofstream(dir / "c.json") << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [3]}})";
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "c.json").string()), Contains("merge #0"));
}

TEST_CASE("hostile tokenizer.json files: deep nesting and mistyped values name the file and key",
          "[io][tokenizer]") {
  auto dir = test::temp_dir("hf_tok_hostile");
  std::ofstream(dir / "deep.json")
      << "{\"model\": {\"merges\": " << std::string(100000, '[') << "}}";
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "deep.json").string()),
                    Contains("deep.json") && Contains("deeper than 64") && Contains("'merges'"));
  std::ofstream(dir / "id.json")
      << R"({"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})";
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "id.json").string()),
                    Contains("id.json") && Contains("model.vocab['a']") && Contains("wrong type"));
  std::ofstream(dir / "added.json")
      << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"id": 1, "content": 5}]})";
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "added.json").string()),
                    Contains("added_tokens[0].content") && Contains("string"));
  std::filesystem::create_directories(dir / "withcfg");
  std::ofstream(dir / "withcfg" / "tokenizer.json")
      << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})";
  std::ofstream(dir / "withcfg" / "tokenizer_config.json")
      << "{\"bos_token\": " << std::string(100000, '[') << "}";
  CHECK_THROWS_WITH(load_hf_tokenizer((dir / "withcfg").string()),
                    Contains("tokenizer_config.json") && Contains("deeper than 64"));
}
