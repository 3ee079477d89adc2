#pragma once
// The Unicode facts the Hugging Face pre-tokenizers need, from ICU: code point classes used by
// the GPT-2 split pattern (\p{L}, \p{N}, \s) and NFC normalization.
#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::unicode {

// Decodes UTF-8 into code points; an invalid byte becomes U+FFFD (and is counted as one unit).
// `offsets` (optional) receives each code point's byte offset, plus a final entry = text.size().
std::vector<char32_t> decode_utf8(const std::string& text, std::vector<size_t>* offsets = nullptr);
void append_utf8(std::string& out, char32_t cp);

bool is_letter(char32_t c);      // \p{L}
bool is_number(char32_t c);      // \p{N}
bool is_whitespace(char32_t c);  // \s (White_Space)

// NFC; ASCII text is returned unchanged without a round trip through ICU.
std::string nfc(const std::string& text);

}  // namespace attnlab::unicode
