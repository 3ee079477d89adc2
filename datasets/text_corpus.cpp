#include "datasets/text_corpus.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/tensor/error.h"

#ifndef ATTNLAB_SHARED_DIR_DEFAULT
#define ATTNLAB_SHARED_DIR_DEFAULT "../shared"
#endif

namespace attnlab {

namespace fs = std::filesystem;

std::string resolve_data_path(const std::string& path) {
  if (path.empty()) throw Error("data file: empty path");
  std::vector<fs::path> tried = {fs::path(path)};
  if (fs::path(path).is_relative()) {
    if (const char* env = std::getenv("ATTNLAB_SHARED_DIR")) tried.push_back(fs::path(env) / path);
    tried.push_back(fs::path(ATTNLAB_SHARED_DIR_DEFAULT) / path);
  }
  for (const fs::path& p : tried)
    if (fs::exists(p)) return p.string();
  std::string list;
  for (const fs::path& p : tried) list += (list.empty() ? "" : ", ") + p.string();
  throw Error("data file '" + path + "' not found (tried: " + list + ")");
}

std::string read_text_file(const std::string& path) {
  const std::string p = resolve_data_path(path);
  if (fs::is_directory(p)) throw Error("'" + p + "' is a folder, not a text file");
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error("cannot open '" + p + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool strip_gutenberg(std::string& text) {
  auto line_start_of = [&](const std::string& marker, size_t from) -> size_t {
    size_t pos = from;
    while ((pos = text.find(marker, pos)) != std::string::npos) {
      if (pos == 0 || text[pos - 1] == '\n') return pos;
      ++pos;
    }
    return std::string::npos;
  };
  size_t start = line_start_of("*** START OF", 0);
  if (start == std::string::npos) start = line_start_of("***START OF", 0);
  if (start == std::string::npos) return false;
  size_t body = text.find('\n', start);
  body = body == std::string::npos ? text.size() : body + 1;
  size_t end = line_start_of("*** END OF", body);
  if (end == std::string::npos) end = line_start_of("***END OF", body);
  if (end == std::string::npos) end = text.size();
  text = text.substr(body, end - body);
  // The marker lines are surrounded by blank lines; drop them so the text starts with text.
  size_t b = text.find_first_not_of("\r\n");
  size_t e = text.find_last_not_of("\r\n");
  text = b == std::string::npos ? std::string() : text.substr(b, e - b + 1) + "\n";
  return true;
}

std::vector<uint32_t> utf8_decode(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  if (s.size() >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
      (unsigned char)s[2] == 0xBF)
    i = 3;  // byte-order mark
  while (i < s.size()) {
    unsigned char c = s[i];
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    bool ok = extra >= 0 && i + extra < s.size();
    uint32_t cp = extra > 0 ? (c & (0x3F >> extra)) : c;
    for (int k = 1; ok && k <= extra; ++k) {
      unsigned char d = s[i + k];
      ok = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
    } else {
      out.push_back(cp);
      i += extra + 1;
    }
  }
  return out;
}

std::string utf8_encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

CharVocab::CharVocab(const std::string& text) {
  std::vector<uint32_t> cps = utf8_decode(text);
  std::set<uint32_t> seen(cps.begin(), cps.end());
  chars_.assign(seen.begin(), seen.end());
}

int CharVocab::id_of(uint32_t cp) const {
  auto it = std::lower_bound(chars_.begin(), chars_.end(), cp);
  return it != chars_.end() && *it == cp ? int(it - chars_.begin()) : -1;
}

std::vector<int32_t> CharVocab::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  for (uint32_t cp : utf8_decode(text)) {
    int id = id_of(cp);
    if (id < 0) throw Error("character U+" + std::to_string(cp) + " is not in the vocabulary");
    ids.push_back(id);
  }
  return ids;
}

std::string CharVocab::char_text(int id) const {
  if (id < 0 || id >= size()) throw Error("char id " + std::to_string(id) + " out of range");
  return utf8_encode(chars_[id]);
}

std::string CharVocab::decode(const std::vector<int32_t>& ids) const {
  std::string s;
  for (int32_t id : ids) s += char_text(id);
  return s;
}

SplitRange split_range(int64_t n, double val_fraction, bool validation) {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    throw Error("val_fraction must be in [0, 1), got " + std::to_string(val_fraction));
  const int64_t n_val = int64_t(double(n) * val_fraction);
  const int64_t cut = n - n_val;
  return validation ? SplitRange{cut, n} : SplitRange{0, cut};
}

}  // namespace attnlab
