#include "core/tokenizer/hf_tokenizer.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <queue>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/tensor/error.h"
#include "core/tokenizer/unicode.h"
#include "core/util/json_input.h"

namespace attnlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char kMetaspace[] = "\xE2\x96\x81";  // U+2581

bool is_contraction_at(const std::vector<char32_t>& c, size_t i, size_t& len) {
  if (c[i] != U'\'' || i + 1 >= c.size()) return false;
  char32_t a = c[i + 1], b = i + 2 < c.size() ? c[i + 2] : 0;
  if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) {
    len = 3;
    return true;
  }
  if (a == U's' || a == U't' || a == U'm' || a == U'd') {
    len = 2;
    return true;
  }
  return false;
}

// GPT-2 byte -> printable code point table: printable Latin-1 bytes map to themselves, the
// rest to 256, 257, ... in byte order.
std::array<char32_t, 256> byte_to_unicode() {
  std::array<char32_t, 256> t{};
  std::array<bool, 256> direct{};
  for (int b = '!'; b <= '~'; ++b) direct[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
  int n = 0;
  for (int b = 0; b < 256; ++b) t[b] = direct[b] ? char32_t(b) : char32_t(256 + n++);
  return t;
}

class HfBpe : public Tokenizer {
 public:
  HfBpe(const json& j, const std::string& where) {
    const json& model = j.at("model");
    if (!model.is_object() || model.value("type", "") != "BPE")
      throw Error(where + ": only BPE tokenizer models are supported (got '" + (model.is_object() ? model.value("type", "?") : "?") + "')");
    for (auto it = model.at("vocab").begin(); it != model.at("vocab").end(); ++it) {
      int id = json_get<int>(it.value(), "model.vocab['" + it.key() + "']", where);
      vocab_[it.key()] = id;
      grow(id);
      pieces_[id] = it.key();
    }
    int rank = 0;
    for (const json& m : model.at("merges")) {
      std::string a, b;
      if (m.is_string()) {
        std::string s = m.get<std::string>();
        size_t sp = s.find(' ', 1);
        if (sp == std::string::npos) throw Error(where + ": merge '" + s + "' is not 'left right'");
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2) {
        const std::string key = "model.merges[" + std::to_string(rank) + "]";
        a = json_get<std::string>(m[0], key, where);
        b = json_get<std::string>(m[1], key, where);
      } else {
        throw Error(where + ": merge #" + std::to_string(rank) + " is neither 'a b' nor [a, b]");
      }
      ranks_.emplace(a + '\x01' + b, rank++);
    }
    byte_fallback_ = model.value("byte_fallback", false);
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      auto it = vocab_.find(model["unk_token"].get<std::string>());
      if (it != vocab_.end()) unk_id_ = it->second;
    }
    if (j.contains("added_tokens"))
      for (const json& t : j["added_tokens"]) {
        const std::string key = "added_tokens[" + std::to_string(added_.size()) + "]";
        int id = json_get<int>(t.at("id"), key + ".id", where);
        std::string content = json_get<std::string>(t.at("content"), key + ".content", where);
        grow(id);
        pieces_[id] = content;
        added_.push_back({content, id, t.value("special", false)});
        is_added_[id] = true;
      }

    const json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json();
    byte_level_ = mentions(pre, "ByteLevel") || mentions(j.value("decoder", json()), "ByteLevel");
    if (byte_level_) {
      add_prefix_space_ = find_bool(pre, "ByteLevel", "add_prefix_space");
      const json* bl = find_type(pre, "ByteLevel");
      use_regex_ = !bl || !bl->contains("use_regex") || (*bl)["use_regex"].get<bool>();
      auto b2u = byte_to_unicode();
      for (int b = 0; b < 256; ++b) {
        byte_char_[b].clear();
        unicode::append_utf8(byte_char_[b], b2u[b]);
        char_byte_[b2u[b]] = static_cast<unsigned char>(b);
      }
    } else {
      // Metaspace: either pre_tokenizer Metaspace, or normalizer Prepend + Replace.
      // The tokenizers library normalizes and pre-tokenizes each piece of text between added
      // tokens on its own: a Prepend normalizer (and Metaspace with prepend_scheme "always", the
      // legacy default) prefixes every piece; prepend_scheme "first" only the first.
      prepend_metaspace_ = mentions(j.value("normalizer", json()), "Prepend") || mentions(pre, "Metaspace");
      replace_spaces_ = mentions(j.value("normalizer", json()), "Replace") || mentions(pre, "Metaspace");
      if (const json* ms = find_type(pre, "Metaspace")) {
        std::string scheme = ms->value("prepend_scheme", "");
        if (scheme.empty()) scheme = ms->value("add_prefix_space", true) ? "always" : "never";
        prepend_first_only_ = scheme == "first";
        split_metaspace_ = ms->value("split", true);
      }
      if (mentions(pre, "Metaspace") && find_string(pre, "Metaspace", "prepend_scheme") == "never") prepend_metaspace_ = false;
      strip_decoded_space_ = mentions(j.value("decoder", json()), "Strip") || mentions(j.value("decoder", json()), "Metaspace");
      for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        auto it = vocab_.find(buf);
        byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
      }
    }
    nfc_ = mentions(j.value("normalizer", json()), "NFC");
    // Pre-tokenizers we implement: ByteLevel (GPT-2 pattern), Metaspace, and Digits before
    // ByteLevel (SmolLM). A Split with its own regex (Qwen2, Llama 3) would silently tokenize
    // differently, so it is refused.
    if (mentions(pre, "Split"))
      throw Error(where + ": a Split pre-tokenizer with its own pattern is not supported (only the GPT-2 ByteLevel pattern)");
    if (const json* dg = find_type(pre, "Digits")) {
      split_digits_ = true;
      individual_digits_ = dg->value("individual_digits", false);
    }
    if (mentions(j.value("normalizer", json()), "NFKC") || mentions(j.value("normalizer", json()), "Lowercase"))
      throw Error(where + ": normalizers other than NFC / Prepend / Replace are not supported");

    // BOS policy: TemplateProcessing whose single template begins with a special token.
    const json& post = j.contains("post_processor") ? j["post_processor"] : json();
    const json* tp = find_type(post, "TemplateProcessing");
    if (tp && tp->contains("single") && (*tp)["single"].is_array() && !(*tp)["single"].empty()) {
      const json& first = (*tp)["single"][0];
      if (first.contains("SpecialToken")) {
        std::string name = first["SpecialToken"].at("id").get<std::string>();
        int id = -1;
        if (tp->contains("special_tokens") && (*tp)["special_tokens"].contains(name))
          id = (*tp)["special_tokens"][name].at("ids").at(0).get<int>();
        else if (vocab_.count(name))
          id = vocab_[name];
        if (id >= 0) {
          bos_id_ = id;
          bos_policy_ = "prepend";
        }
      }
    }
  }

  // Fills in BOS/EOS from tokenizer_config.json where the template said nothing.
  void set_special_from_config(const json& cfg) {
    auto id_of = [&](const char* key) {
      if (!cfg.contains(key)) return -1;
      const json& v = cfg[key];
      std::string s = v.is_string() ? v.get<std::string>() : v.is_object() ? v.value("content", "") : "";
      for (const auto& a : added_) if (a.content == s) return a.id;
      auto it = vocab_.find(s);
      return it == vocab_.end() ? -1 : it->second;
    };
    if (bos_id_ < 0) bos_id_ = id_of("bos_token");
    eos_id_ = id_of("eos_token");
    if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean() && bos_id_ >= 0)
      bos_policy_ = cfg["add_bos_token"].get<bool>() ? "prepend" : "none";
  }

  std::string kind() const override { return byte_level_ ? "byte-level-bpe" : replace_spaces_ ? "metaspace-bpe" : "bpe"; }
  int vocab_size() const override { return static_cast<int>(pieces_.size()); }

  std::vector<int32_t> encode(const std::string& raw, bool add_bos) const override {
    std::vector<int32_t> out;
    if (add_bos) {
      if (bos_id_ < 0) throw Error("HF tokenizer has no BOS token");
      out.push_back(bos_id_);
    }
    std::string text = nfc_ ? unicode::nfc(raw) : raw;
    // Split out added tokens, leftmost-longest.
    size_t seg = 0, i = 0;
    bool first_segment = true;
    while (i <= text.size()) {
      const Added* best = nullptr;
      if (i < text.size())
        for (const Added& a : added_)
          if (!a.content.empty() && text.compare(i, a.content.size(), a.content) == 0 &&
              (!best || a.content.size() > best->content.size()))
            best = &a;
      if (best || i == text.size()) {
        if (i > seg) encode_segment(text.substr(seg, i - seg), first_segment, out);
        if (!best) break;
        out.push_back(best->id);
        first_segment = false;
        i += best->content.size();
        seg = i;
      } else {
        ++i;
      }
    }
    return out;
  }

  std::string decode_token(int32_t id) const override {
    check_id(id);
    const std::string& p = pieces_[id];
    if (is_added_[id]) return p;
    if (byte_level_) {
      std::string out;
      for (char32_t c : unicode::decode_utf8(p)) {
        auto it = char_byte_.find(c);
        if (it != char_byte_.end()) out += static_cast<char>(it->second);
        else unicode::append_utf8(out, c);
      }
      return out;
    }
    if (p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>') return std::string(1, static_cast<char>(std::stoi(p.substr(3, 2), nullptr, 16)));
    if (!replace_spaces_) return p;
    std::string out;
    for (size_t k = 0; k < p.size();) {
      if (p.compare(k, 3, kMetaspace) == 0) {
        out += ' ';
        k += 3;
      } else {
        out += p[k++];
      }
    }
    return out;
  }

  std::string decode_next(int32_t prev, int32_t id) const override {
    std::string s = decode_token(id);
    if (!byte_level_ && strip_decoded_space_ && prepend_metaspace_ && (prev < 0 || prev == bos_id_) && !s.empty() && s[0] == ' ')
      s.erase(0, 1);
    return s;
  }

 private:
  struct Added {
    std::string content;
    int id;
    bool special;
  };

  static const json* find_type(const json& j, const std::string& type) {
    if (j.is_object()) {
      if (j.value("type", "") == type) return &j;
      for (const char* k : {"pretokenizers", "normalizers", "decoders", "processors"})
        if (j.contains(k))
          for (const json& c : j[k])
            if (const json* f = find_type(c, type)) return f;
    }
    return nullptr;
  }
  static bool mentions(const json& j, const std::string& type) { return find_type(j, type) != nullptr; }
  static bool find_bool(const json& j, const std::string& type, const std::string& key) {
    const json* f = find_type(j, type);
    return f && f->contains(key) && (*f)[key].is_boolean() && (*f)[key].get<bool>();
  }
  static std::string find_string(const json& j, const std::string& type, const std::string& key) {
    const json* f = find_type(j, type);
    return f && f->contains(key) && (*f)[key].is_string() ? (*f)[key].get<std::string>() : "";
  }

  void grow(int id) {
    if (id < 0 || id > (1 << 24)) throw Error("tokenizer.json: token id " + std::to_string(id) + " is out of range");
    if (static_cast<size_t>(id) >= pieces_.size()) {
      pieces_.resize(static_cast<size_t>(id) + 1);
      is_added_.resize(static_cast<size_t>(id) + 1, false);
    }
  }

  void encode_segment(const std::string& s, bool first_segment, std::vector<int32_t>& out) const {
    if (byte_level_) {
      std::vector<std::string> pieces = split_digits_ ? digit_pieces(s) : std::vector<std::string>{s};
      std::vector<std::string> words;
      for (const std::string& piece : pieces) {
        std::string text = add_prefix_space_ && !piece.empty() && piece[0] != ' ' ? " " + piece : piece;
        if (!use_regex_) {
          words.push_back(text);
          continue;
        }
        for (std::string& w : gpt2_pretokenize(text)) words.push_back(std::move(w));
      }
      for (const std::string& word : words) {
        std::vector<std::string> syms;
        for (unsigned char b : word) syms.push_back(byte_char_[b]);
        bpe(word, syms, out);
      }
      return;
    }
    bool prepend = prepend_metaspace_ && (first_segment || !prepend_first_only_);
    std::string t = prepend ? std::string(kMetaspace) : std::string();
    for (char c : s) {
      if (c == ' ' && replace_spaces_) t += kMetaspace;
      else t += c;
    }
    if (!split_metaspace_) {
      bpe(t, utf8_chars(t), out);
      return;
    }
    // Metaspace split: each word starts at a U+2581 (merged with what follows it).
    size_t start = 0;
    for (size_t k = 1; k <= t.size(); ++k) {
      if (k == t.size() || t.compare(k, 3, kMetaspace) == 0) {
        std::string word = t.substr(start, k - start);
        bpe(word, utf8_chars(word), out);
        start = k;
      }
    }
  }

  // The Digits pre-tokenizer: numeric characters (Rust's char::is_numeric, i.e. \p{N}) isolated
  // one by one (individual_digits) or kept as runs.
  std::vector<std::string> digit_pieces(const std::string& s) const {
    std::vector<size_t> off;
    std::vector<char32_t> c = unicode::decode_utf8(s, &off);
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 1; i <= c.size(); ++i) {
      bool cut = i == c.size() || unicode::is_number(c[i]) != unicode::is_number(c[i - 1]) ||
                 (individual_digits_ && unicode::is_number(c[i]));
      if (cut) {
        out.push_back(s.substr(off[start], off[i] - off[start]));
        start = i;
      }
    }
    return out;
  }

  // Merges by rank (lowest first, leftmost on ties), then maps symbols to ids.
  void bpe(const std::string& key, std::vector<std::string> syms, std::vector<int32_t>& out) const {
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      auto it = cache_.find(key);
      if (it != cache_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    const int n = static_cast<int>(syms.size());
    std::vector<int> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
    struct Cand { int rank, left, right; std::string a, b; };
    auto worse = [](const Cand& x, const Cand& y) { return x.rank > y.rank || (x.rank == y.rank && x.left > y.left); };
    std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> q(worse);
    auto push = [&](int l, int r) {
      if (l < 0 || r < 0) return;
      auto it = ranks_.find(syms[l] + '\x01' + syms[r]);
      if (it != ranks_.end()) q.push({it->second, l, r, syms[l], syms[r]});
    };
    for (int i = 0; i + 1 < n; ++i) push(i, i + 1);
    while (!q.empty()) {
      Cand c = q.top();
      q.pop();
      if (!alive[c.left] || !alive[c.right] || next[c.left] != c.right || syms[c.left] != c.a || syms[c.right] != c.b) continue;
      syms[c.left] += syms[c.right];
      alive[c.right] = false;
      next[c.left] = next[c.right];
      if (next[c.right] >= 0) prev[next[c.right]] = c.left;
      push(prev[c.left], c.left);
      push(c.left, next[c.left]);
    }
    std::vector<int32_t> ids;
    for (int i = 0; i >= 0 && i < n; i = next[i]) {
      auto it = vocab_.find(syms[i]);
      if (it != vocab_.end()) {
        ids.push_back(it->second);
      } else if (!byte_level_ && byte_fallback_) {
        for (unsigned char b : syms[i]) {
          if (byte_ids_[b] < 0) throw Error("HF tokenizer: byte fallback token <0x..> missing for '" + syms[i] + "'");
          ids.push_back(byte_ids_[b]);
        }
      } else if (unk_id_ >= 0) {
        ids.push_back(unk_id_);
      } else {
        throw Error("HF tokenizer: '" + syms[i] + "' is not in the vocabulary and there is no unk token");
      }
    }
    out.insert(out.end(), ids.begin(), ids.end());
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() > 200000) cache_.clear();
    cache_.emplace(key, std::move(ids));
  }

  std::unordered_map<std::string, int> vocab_;
  std::unordered_map<std::string, int> ranks_;  // "left\x01right" -> rank
  std::vector<std::string> pieces_;
  std::vector<bool> is_added_;
  std::vector<Added> added_;
  bool byte_level_ = true, add_prefix_space_ = false, nfc_ = false, byte_fallback_ = false;
  bool prepend_metaspace_ = false, strip_decoded_space_ = false, use_regex_ = true, replace_spaces_ = false;
  bool prepend_first_only_ = false, split_metaspace_ = false, split_digits_ = false, individual_digits_ = false;
  int unk_id_ = -1;
  std::array<std::string, 256> byte_char_;
  std::unordered_map<char32_t, unsigned char> char_byte_;
  std::array<int, 256> byte_ids_{};
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
  mutable std::mutex cache_mutex_;
};

}  // namespace

std::vector<std::string> gpt2_pretokenize(const std::string& text) {
  using namespace unicode;
  std::vector<size_t> off;
  std::vector<char32_t> c = decode_utf8(text, &off);
  const size_t n = c.size();
  std::vector<std::string> out;
  size_t i = 0;
  auto other = [&](char32_t x) { return !is_whitespace(x) && !is_letter(x) && !is_number(x); };
  while (i < n) {
    size_t end = i, len = 0;
    size_t j = c[i] == U' ' ? i + 1 : i;  // the optional leading space of ` ?\p{L}+` etc.
    if (is_contraction_at(c, i, len)) {
      end = i + len;
    } else if (j < n && is_letter(c[j])) {
      end = j;
      while (end < n && is_letter(c[end])) ++end;
    } else if (j < n && is_number(c[j])) {
      end = j;
      while (end < n && is_number(c[end])) ++end;
    } else if (j < n && other(c[j])) {
      end = j;
      while (end < n && other(c[end])) ++end;
    } else {
      // \s+(?!\S) takes a whitespace run but leaves its last character for the next word;
      // a single whitespace character before a non-space falls to the plain \s+.
      size_t e = i;
      while (e < n && is_whitespace(c[e])) ++e;
      end = e == n || e - i == 1 ? e : e - 1;
    }
    out.push_back(text.substr(off[i], off[end] - off[i]));
    i = end;
  }
  return out;
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path) {
  fs::path file = fs::is_directory(path) ? fs::path(path) / "tokenizer.json" : fs::path(path);
  std::string where = "tokenizer " + file.string();
  std::ifstream in(file);
  if (!in) throw Error(where + ": cannot open");
  json j;
  try {
    j = parse_json_bounded(in, where);
  } catch (const json::exception& e) {
    throw Error(where + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("model")) throw Error(where + ": no 'model' section");
  std::unique_ptr<HfBpe> tok;
  try {
    tok = std::make_unique<HfBpe>(j, where);
  } catch (const json::exception& e) {
    throw Error(where + ": unexpected structure: " + e.what());
  }
  fs::path cfg = file.parent_path() / "tokenizer_config.json";
  if (fs::exists(cfg)) {
    std::ifstream cin(cfg);
    try {
      tok->set_special_from_config(parse_json_bounded(cin, "tokenizer config " + cfg.string()));
    } catch (const json::exception& e) {
      throw Error("tokenizer config " + cfg.string() + ": not valid JSON: " + e.what());
    }
  }
  return tok;
}

}  // namespace attnlab
