#pragma once
// Text for tasks and language modelling: reading files (found directly or under the shared
// data folder), stripping Project Gutenberg boilerplate, a character vocabulary over Unicode
// code points, and the train/validation split.
#include <cstdint>
#include <string>
#include <vector>

namespace attnlab {

// `path` if it exists (a file or folder); otherwise `path` under $ATTNLAB_SHARED_DIR or the shared folder
// configured at build time (../shared). Throws attnlab::Error listing the places tried.
std::string resolve_data_path(const std::string& path);
std::string read_text_file(const std::string& path);  // resolves, then reads; throws if missing

// Keeps only the text between the "*** START OF ..." and "*** END OF ..." marker lines of a
// Project Gutenberg file (a leading UTF-8 byte-order mark is dropped too). Returns false and
// leaves `text` as it was when the file has no START marker.
bool strip_gutenberg(std::string& text);

// UTF-8 <-> code points. Malformed bytes decode to themselves (Latin-1) rather than failing,
// so any file loads.
std::vector<uint32_t> utf8_decode(const std::string& s);
std::string utf8_encode(uint32_t cp);

// The sorted set of characters of a text (nanoGPT's char-level vocabulary, over code points).
class CharVocab {
 public:
  CharVocab() = default;
  explicit CharVocab(const std::string& text);
  int size() const { return int(chars_.size()); }
  int id_of(uint32_t cp) const;  // -1 if absent
  std::vector<int32_t> encode(const std::string& text) const;  // throws on an unknown char
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string char_text(int id) const;  // UTF-8 of one id
  const std::vector<uint32_t>& chars() const { return chars_; }

 private:
  std::vector<uint32_t> chars_;  // ascending
};

// Train/validation split of n tokens: validation is the last `val_fraction` of the stream.
struct SplitRange {
  int64_t begin = 0, end = 0;
};
SplitRange split_range(int64_t n, double val_fraction, bool validation);

}  // namespace attnlab
