#include "gui/token_codec.h"

#include <sstream>

#include "core/tensor/error.h"

namespace attnlab::gui {
namespace {

class ByteCodec : public TokenCodec {
 public:
  std::vector<int32_t> encode(const std::string& text) const override {
    std::vector<int32_t> ids;
    ids.reserve(text.size());
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  std::string piece(int32_t id) const override {
    if (id >= 0 && id < 256) return std::string(1, char(id));
    return "<" + std::to_string(id) + ">";
  }
  std::string describe() const override { return "bytes"; }
};

class IdCodec : public TokenCodec {
 public:
  explicit IdCodec(int vocab) : vocab_(vocab) {}
  std::vector<int32_t> encode(const std::string& text) const override {
    std::vector<int32_t> ids;
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
      size_t used = 0;
      long v = -1;
      try {
        v = std::stol(word, &used);
      } catch (...) {
        used = 0;
      }
      if (used != word.size() || v < 0 || v >= vocab_)
        throw Error("this model has no tokenizer: type token ids 0.." + std::to_string(vocab_ - 1) +
                    " separated by spaces ('" + word + "' is not one)");
      ids.push_back(int32_t(v));
    }
    return ids;
  }
  std::string piece(int32_t id) const override { return std::to_string(id); }
  std::string describe() const override { return "token ids"; }

 private:
  int vocab_;
};

// Length of the UTF-8 sequence starting with byte c, or 0 when c cannot start one.
int utf8_length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 0;
}

}  // namespace

std::unique_ptr<TokenCodec> make_byte_codec() { return std::make_unique<ByteCodec>(); }
std::unique_ptr<TokenCodec> make_id_codec(int vocab_size) {
  return std::make_unique<IdCodec>(vocab_size);
}

std::string display_label(const std::string& piece, int max_chars) {
  std::string out;
  int chars = 0;
  size_t i = 0;
  while (i < piece.size()) {
    if (chars >= max_chars) {
      out += "…";
      break;
    }
    const unsigned char c = piece[i];
    if (c == ' ') {
      out += "·";
    } else if (c == '\n') {
      out += "↵";
    } else if (c == '\t') {
      out += "→";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", c);
      out += buf;
    } else {
      const int n = utf8_length(c);
      bool valid = n > 0 && i + n <= piece.size();
      for (int k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(piece[i + k]) >> 6) == 0x2;
      if (!valid) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", c);
        out += buf;
      } else {
        out.append(piece, i, n);
        i += n;
        ++chars;
        continue;
      }
    }
    ++i;
    ++chars;
  }
  if (out.empty()) out = "∅";
  return out;
}

}  // namespace attnlab::gui
