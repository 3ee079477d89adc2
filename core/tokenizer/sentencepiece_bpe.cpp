#include "core/tokenizer/sentencepiece_bpe.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <queue>
#include <unordered_map>

#include "core/io/gguf.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// "<0x0A>" -> 10; -1 when the piece is not a byte token.
int parse_byte_piece(const std::string& p) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return -1;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  int hi = hex(p[3]), lo = hex(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class SentencePieceBpe : public Tokenizer {
 public:
  explicit SentencePieceBpe(SentencePieceVocab v) : v_(std::move(v)) {
    const size_t n = v_.pieces.size();
    if (n == 0) throw Error("sentencepiece tokenizer: empty vocabulary");
    if (v_.scores.size() != n || v_.types.size() != n)
      throw Error("sentencepiece tokenizer: " + std::to_string(n) + " pieces but " + std::to_string(v_.scores.size()) +
                  " scores and " + std::to_string(v_.types.size()) + " types");
    for (int id : {v_.bos_id, v_.eos_id, v_.unk_id})
      if (id >= static_cast<int>(n)) throw Error("sentencepiece tokenizer: special id " + std::to_string(id) + " is outside the vocabulary");
    byte_ids_.fill(-1);
    for (size_t i = 0; i < n; ++i) {
      if (v_.types[i] == PieceType::byte) {
        int b = parse_byte_piece(v_.pieces[i]);
        if (b < 0) throw Error("sentencepiece tokenizer: byte token " + std::to_string(i) + " is not of the form <0xNN>");
        byte_ids_[b] = static_cast<int>(i);
      } else if (v_.types[i] == PieceType::normal || v_.types[i] == PieceType::user_defined) {
        ids_.emplace(v_.pieces[i], static_cast<int>(i));  // first wins on duplicates, as in run.c's bsearch over a stable sort
      }
    }
    bos_id_ = v_.bos_id;
    eos_id_ = v_.eos_id;
    bos_policy_ = v_.bos_id >= 0 && v_.add_bos ? "prepend" : "none";
  }

  std::string kind() const override { return "sentencepiece-bpe"; }
  const SentencePieceVocab& vocab() const { return v_; }
  int vocab_size() const override { return static_cast<int>(v_.pieces.size()); }

  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override {
    std::vector<int32_t> out;
    if (add_bos) {
      if (bos_id_ < 0) throw Error("sentencepiece tokenizer has no BOS token");
      out.push_back(bos_id_);
    }
    if (text.empty()) return out;
    std::string s = v_.add_dummy_prefix ? " " + text : text;
    // Symbols are contiguous byte ranges of s, linked in a list; merging grows the left one.
    struct Sym { size_t start, len; int prev, next; };
    std::vector<Sym> sym;
    for (const std::string& c : utf8_chars(s)) {
      size_t start = sym.empty() ? 0 : sym.back().start + sym.back().len;
      int idx = static_cast<int>(sym.size());
      sym.push_back({start, c.size(), idx - 1, idx + 1});
    }
    sym.back().next = -1;
    struct Bigram { float score; int left, right; size_t len; };
    auto worse = [](const Bigram& a, const Bigram& b) {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
    auto try_pair = [&](int l, int r) {
      if (l < 0 || r < 0) return;
      size_t len = sym[l].len + sym[r].len;
      auto it = ids_.find(s.substr(sym[l].start, len));
      if (it != ids_.end()) queue.push({v_.scores[it->second], l, r, len});
    };
    for (size_t i = 0; i + 1 < sym.size(); ++i) try_pair(static_cast<int>(i), static_cast<int>(i + 1));
    while (!queue.empty()) {
      Bigram b = queue.top();
      queue.pop();
      Sym& l = sym[b.left];
      Sym& r = sym[b.right];
      if (l.len == 0 || r.len == 0 || l.len + r.len != b.len || l.next != b.right) continue;  // stale
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = b.left;
      try_pair(l.prev, b.left);
      try_pair(b.left, l.next);
    }
    for (int i = 0; i >= 0; i = sym[i].next) {
      std::string piece = s.substr(sym[i].start, sym[i].len);
      auto it = ids_.find(piece);
      if (it != ids_.end()) {
        out.push_back(it->second);
        continue;
      }
      for (unsigned char c : piece) {
        if (byte_ids_[c] >= 0) {
          out.push_back(byte_ids_[c]);
        } else if (v_.unk_id >= 0) {
          out.push_back(v_.unk_id);
          break;
        } else {
          throw Error("sentencepiece tokenizer: '" + piece + "' is not in the vocabulary and there is no byte fallback or <unk>");
        }
      }
    }
    return out;
  }

  std::string decode_token(int32_t id) const override {
    check_id(id);
    if (v_.types[id] == PieceType::byte) return std::string(1, static_cast<char>(parse_byte_piece(v_.pieces[id])));
    if (v_.types[id] == PieceType::control) return "";
    return v_.pieces[id];
  }

  // run.c: after BOS (and at the start of a sequence, where encode put the dummy prefix) the
  // piece's leading space is not printed.
  std::string decode_next(int32_t prev, int32_t id) const override {
    std::string p = decode_token(id);
    if (v_.add_dummy_prefix && (prev < 0 || prev == bos_id_) && !p.empty() && p[0] == ' ' &&
        v_.types[id] != PieceType::byte)
      p.erase(0, 1);
    return p;
  }

 private:
  SentencePieceVocab v_;
  std::unordered_map<std::string, int> ids_;
  std::array<int, 256> byte_ids_;
};

// GGUF and SentencePiece write a space as U+2581 LOWER ONE EIGHTH BLOCK.
std::string unescape_spaces(const std::string& p) {
  static const std::string kSpace = "\xE2\x96\x81";
  std::string out;
  for (size_t i = 0; i < p.size();) {
    if (p.compare(i, 3, kSpace) == 0) {
      out += ' ';
      i += 3;
    } else {
      out += p[i++];
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece_bpe(SentencePieceVocab vocab) {
  return std::make_unique<SentencePieceBpe>(std::move(vocab));
}

const SentencePieceVocab* sentencepiece_vocab(const Tokenizer& tokenizer) {
  const auto* sp = dynamic_cast<const SentencePieceBpe*>(&tokenizer);
  return sp ? &sp->vocab() : nullptr;
}

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error("llama2.c tokenizer " + path + ": no such file");
  uint64_t size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  int32_t max_len = 0;
  if (size < 4 || !in.read(reinterpret_cast<char*>(&max_len), 4))
    throw Error("llama2.c tokenizer " + path + ": too short for the header");
  if (max_len <= 0 || max_len > (1 << 16))
    throw Error("llama2.c tokenizer " + path + ": max_token_length " + std::to_string(max_len) + " is implausible (not a tokenizer file?)");
  SentencePieceVocab v;
  uint64_t pos = 4;
  while (pos < size) {
    float score;
    int32_t len;
    if (size - pos < 8) throw Error("llama2.c tokenizer " + path + ": truncated at token " + std::to_string(v.pieces.size()));
    in.read(reinterpret_cast<char*>(&score), 4);
    in.read(reinterpret_cast<char*>(&len), 4);
    pos += 8;
    if (len < 0 || len > max_len || static_cast<uint64_t>(len) > size - pos)
      throw Error("llama2.c tokenizer " + path + ": token " + std::to_string(v.pieces.size()) + " has length " +
                  std::to_string(len) + " (max " + std::to_string(max_len) + ", or past the end of the file)");
    std::string piece(static_cast<size_t>(len), '\0');
    in.read(piece.data(), len);
    pos += static_cast<uint64_t>(len);
    v.pieces.push_back(piece);
    v.scores.push_back(score);
  }
  if (v.pieces.size() < 3) throw Error("llama2.c tokenizer " + path + ": fewer than 3 tokens");
  for (size_t i = 0; i < v.pieces.size(); ++i) {
    PieceType t = PieceType::normal;
    if (i == 0) t = PieceType::unknown;
    else if (i == 1 || i == 2) t = PieceType::control;
    else if (parse_byte_piece(v.pieces[i]) >= 0) t = PieceType::byte;
    v.types.push_back(t);
  }
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  return make_sentencepiece_bpe(std::move(v));
}

std::unique_ptr<Tokenizer> sentencepiece_from_gguf(const GgufFile& f) {
  std::string model = f.get_string("tokenizer.ggml.model");
  if (model != "llama")
    throw Error("gguf " + f.path + ": tokenizer.ggml.model '" + model +
                "' is not a SentencePiece (llama) tokenizer");
  SentencePieceVocab v;
  for (const std::string& t : f.get_strings("tokenizer.ggml.tokens"))
    v.pieces.push_back(unescape_spaces(t));
  const size_t n = v.pieces.size();
  if (f.has("tokenizer.ggml.scores")) {
    for (double s : f.get_floats("tokenizer.ggml.scores"))
      v.scores.push_back(static_cast<float>(s));
  } else {
    v.scores.assign(n, 0.0f);
  }
  if (f.has("tokenizer.ggml.token_type")) {
    for (int64_t k : f.get_ints("tokenizer.ggml.token_type")) {
      if (k < 1 || k > 6) throw Error("gguf " + f.path + ": token_type " + std::to_string(k) + " is unknown");
      v.types.push_back(static_cast<PieceType>(k));
    }
  } else {
    for (const std::string& p : v.pieces) v.types.push_back(parse_byte_piece(p) >= 0 ? PieceType::byte : PieceType::normal);
  }
  if (v.scores.size() != n || v.types.size() != n)
    throw Error("gguf " + f.path + ": tokenizer.ggml.tokens/scores/token_type lengths differ");
  auto id_or = [&](const std::string& key, int fallback) {
    int64_t id = f.get_int(key, fallback);
    return id >= 0 && id < static_cast<int64_t>(n) ? static_cast<int>(id) : -1;  // 0xFFFFFFFF means none
  };
  v.bos_id = id_or("tokenizer.ggml.bos_token_id", 1);
  v.eos_id = id_or("tokenizer.ggml.eos_token_id", 2);
  v.unk_id = id_or("tokenizer.ggml.unknown_token_id", 0);
  v.add_dummy_prefix = f.get_bool("tokenizer.ggml.add_space_prefix", v.add_dummy_prefix);
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  return make_sentencepiece_bpe(std::move(v));
}

}  // namespace attnlab
