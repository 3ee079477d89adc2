#pragma once
// How the GUI turns prompt text into token ids and ids back into readable labels. A model
// file with a tokenizer uses it; a model without one (a synthetic-task checkpoint) falls back
// to bytes (vocab >= 256) or to typed integer ids ("3 14 15").
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnlab::gui {

class TokenCodec {
 public:
  virtual ~TokenCodec() = default;
  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  // The raw text of one token (may hold spaces, newlines, partial UTF-8).
  virtual std::string piece(int32_t id) const = 0;
  virtual std::string describe() const = 0;
};

// Bytes as tokens 0..255 (ids >= 256 print as "<id>").
std::unique_ptr<TokenCodec> make_byte_codec();
// Whitespace-separated integers; anything else is an attnlab::Error naming the bad word.
std::unique_ptr<TokenCodec> make_id_codec(int vocab_size);

// A token as a short label for axes and chips: spaces become '·', newlines '↵', tabs '→',
// control bytes and invalid UTF-8 become <0xNN>, and long pieces are cut with '…'.
std::string display_label(const std::string& piece, int max_chars = 12);

}  // namespace attnlab::gui
