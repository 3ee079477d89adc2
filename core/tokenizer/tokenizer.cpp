#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/tensor/error.h"

namespace attnlab {

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  int32_t prev = -1;
  for (int32_t id : ids) {
    check_id(id);
    if (id != bos_id_ && id != eos_id_) out += decode_next(prev, id);
    prev = id;
  }
  return out;
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error(kind() + " tokenizer: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                std::to_string(vocab_size()) + ")");
}

std::vector<std::string> utf8_chars(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > text.size()) len = 1;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        len = 1;
        break;
      }
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

namespace {

class ByteTokenizer : public Tokenizer {
 public:
  std::string kind() const override { return "byte"; }
  int vocab_size() const override { return 256; }
  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override {
    if (add_bos) throw Error("byte tokenizer has no BOS token");
    std::vector<int32_t> ids;
    ids.reserve(text.size());
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  std::string decode_token(int32_t id) const override {
    check_id(id);
    return std::string(1, static_cast<char>(id));
  }
};

class CharTokenizer : public Tokenizer {
 public:
  explicit CharTokenizer(const std::vector<std::string>& alphabet) : chars_(alphabet) {
    for (size_t i = 0; i < chars_.size(); ++i) {
      if (utf8_chars(chars_[i]).size() != 1)
        throw Error("char tokenizer: alphabet entry " + std::to_string(i) + " is not one UTF-8 character");
      if (!ids_.emplace(chars_[i], static_cast<int32_t>(i)).second)
        throw Error("char tokenizer: character '" + chars_[i] + "' appears twice in the alphabet");
    }
  }
  std::string kind() const override { return "char"; }
  int vocab_size() const override { return static_cast<int>(chars_.size()); }
  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override {
    if (add_bos) throw Error("char tokenizer has no BOS token");
    std::vector<int32_t> ids;
    for (const std::string& c : utf8_chars(text)) {
      auto it = ids_.find(c);
      if (it == ids_.end()) throw Error("char tokenizer: character '" + c + "' is not in the alphabet");
      ids.push_back(it->second);
    }
    return ids;
  }
  std::string decode_token(int32_t id) const override {
    check_id(id);
    return chars_[id];
  }

 private:
  std::vector<std::string> chars_;
  std::map<std::string, int32_t> ids_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

std::unique_ptr<Tokenizer> make_char_tokenizer(const std::vector<std::string>& alphabet) {
  return std::make_unique<CharTokenizer>(alphabet);
}

std::vector<std::string> char_alphabet_of(const std::string& text) {
  std::set<std::string> s;
  for (const std::string& c : utf8_chars(text)) s.insert(c);
  return {s.begin(), s.end()};
}

}  // namespace attnlab
