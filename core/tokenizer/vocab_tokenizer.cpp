#include "core/tokenizer/vocab_tokenizer.h"

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/tensor/error.h"
#include "core/util/json_input.h"

namespace attnlab {

namespace {

bool is_byte_display(const std::vector<std::string>& v) {
  if (v.size() != 256) return false;
  for (int id = 0; id < 256; ++id) {
    std::string want;
    if (id >= 32 && id < 127) {
      want = std::string(1, char(id));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<%02X>", id);
      want = buf;
    }
    if (v[size_t(id)] != want) return false;
  }
  return true;
}

class SymbolTokenizer : public Tokenizer {
 public:
  explicit SymbolTokenizer(std::vector<std::string> texts) : texts_(std::move(texts)) {
    for (size_t i = 0; i < texts_.size(); ++i) ids_.emplace(texts_[i], int32_t(i));  // first wins
  }
  std::string kind() const override { return "symbols"; }
  int vocab_size() const override { return int(texts_.size()); }
  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override {
    if (add_bos) throw Error("symbol tokenizer has no BOS token");
    std::vector<int32_t> out;
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
      auto it = ids_.find(word);
      if (it == ids_.end()) throw Error("symbol tokenizer: '" + word + "' is not a token of this model");
      out.push_back(it->second);
    }
    return out;
  }
  std::string decode_token(int32_t id) const override {
    check_id(id);
    return texts_[size_t(id)];
  }
  // Symbols are shown separated by spaces, so decode(encode(s)) gives back the symbols.
  std::string decode_next(int32_t prev, int32_t id) const override {
    return (prev >= 0 ? " " : "") + decode_token(id);
  }

 private:
  std::vector<std::string> texts_;
  std::map<std::string, int32_t> ids_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_vocab_tokenizer(const std::vector<std::string>& v) {
  if (v.empty()) throw Error("vocab tokenizer: the token list is empty");
  if (is_byte_display(v)) return make_byte_tokenizer();
  std::set<std::string> seen;
  bool chars = true;
  for (const std::string& t : v) chars &= utf8_chars(t).size() == 1 && seen.insert(t).second;
  if (chars) return make_char_tokenizer(v);
  return std::make_unique<SymbolTokenizer>(v);
}

std::unique_ptr<Tokenizer> vocab_tokenizer_from_json(const std::string& text) {
  std::vector<std::string> v;
  try {
    v = parse_json_bounded(text, "attnlab.vocab").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("attnlab.vocab is not a JSON list of strings: ") + e.what());
  }
  return make_vocab_tokenizer(v);
}

}  // namespace attnlab
