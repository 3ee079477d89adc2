#include "core/tokenizer/unicode.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "core/tensor/error.h"

namespace attnlab::unicode {

std::vector<char32_t> decode_utf8(const std::string& s, std::vector<size_t>* offsets) {
  std::vector<char32_t> out;
  if (offsets) offsets->clear();
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    char32_t cp = 0xFFFD;
    if (len == 0 || i + len > s.size()) {
      len = 1;
    } else if (len == 1) {
      cp = c;
    } else {
      cp = c & (0x7F >> len);
      bool ok = true;
      for (size_t k = 1; k < len; ++k) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) ok = false;
        cp = cp << 6 | (cc & 0x3F);
      }
      if (!ok) {
        cp = 0xFFFD;
        len = 1;
      }
    }
    if (offsets) offsets->push_back(i);
    out.push_back(cp);
    i += len;
  }
  if (offsets) offsets->push_back(s.size());
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_letter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0;
}

bool is_number(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0;
}

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return u_isUWhiteSpace(static_cast<UChar32>(c));
}

std::string nfc(const std::string& text) {
  bool ascii = true;
  for (unsigned char c : text) ascii &= c < 0x80;
  if (ascii) return text;
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* n = unorm2_getNFCInstance(&err);
  if (U_FAILURE(err)) throw Error(std::string("ICU NFC normalizer unavailable: ") + u_errorName(err));
  int32_t len16 = 0;
  err = U_ZERO_ERROR;
  u_strFromUTF8WithSub(nullptr, 0, &len16, text.data(), static_cast<int32_t>(text.size()), 0xFFFD, nullptr, &err);
  std::u16string src(static_cast<size_t>(len16), u'\0');
  err = U_ZERO_ERROR;
  u_strFromUTF8WithSub(reinterpret_cast<UChar*>(src.data()), len16, nullptr, text.data(), static_cast<int32_t>(text.size()),
                       0xFFFD, nullptr, &err);
  if (U_FAILURE(err)) throw Error(std::string("NFC: cannot convert text to UTF-16: ") + u_errorName(err));
  std::u16string dst(src.size() * 3 + 16, u'\0');
  err = U_ZERO_ERROR;
  int32_t n16 = unorm2_normalize(n, reinterpret_cast<const UChar*>(src.data()), len16, reinterpret_cast<UChar*>(dst.data()),
                                 static_cast<int32_t>(dst.size()), &err);
  if (U_FAILURE(err)) throw Error(std::string("NFC normalization failed: ") + u_errorName(err));
  std::string out(static_cast<size_t>(n16) * 3 + 4, '\0');
  int32_t n8 = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &n8, reinterpret_cast<const UChar*>(dst.data()), n16, &err);
  if (U_FAILURE(err)) throw Error(std::string("NFC: cannot convert back to UTF-8: ") + u_errorName(err));
  out.resize(static_cast<size_t>(n8));
  return out;
}

}  // namespace attnlab::unicode
