#include "core/io/llama2c.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/tensor/error.h"
#include "core/tokenizer/sentencepiece_bpe.h"

namespace attnlab {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMagicV1 = 0x616b3432;  // "ak42"

struct Header {
  int version = 0;  // 0 legacy, 1 fp32 with magic
  int32_t dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len;
  bool shared = true;
  uint64_t data_start = 28;
};

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw Error("llama2.c checkpoint " + path + ": " + msg);
}

Header read_header(const std::string& path, std::ifstream& in, uint64_t size) {
  Header h;
  if (size < 28) fail(path, "file is " + std::to_string(size) + " bytes, too short for the header");
  uint32_t first;
  in.read(reinterpret_cast<char*>(&first), 4);
  int32_t p[7];
  if (first == kMagicV1) {
    int32_t version;
    in.read(reinterpret_cast<char*>(&version), 4);
    if (version != 1) fail(path, "version " + std::to_string(version) + " is not supported (supported: legacy and 1)");
    if (size < 256) fail(path, "truncated header");
    in.read(reinterpret_cast<char*>(p), 28);
    uint8_t shared;
    in.read(reinterpret_cast<char*>(&shared), 1);
    h.version = 1;
    h.shared = shared != 0;
    h.data_start = 256;
  } else {
    in.seekg(0);
    in.read(reinterpret_cast<char*>(p), 28);
    h.shared = p[5] > 0;  // run.c: a negative vocab_size marks an unshared classifier
    // INT32_MIN has no positive counterpart (negating it is undefined); left negative, it fails
    // the plausibility check below like any other impossible size.
    if (p[5] < 0 && p[5] != std::numeric_limits<int32_t>::min()) p[5] = -p[5];
  }
  h.dim = p[0], h.hidden = p[1], h.n_layers = p[2], h.n_heads = p[3], h.n_kv_heads = p[4], h.vocab = p[5], h.seq_len = p[6];
  const char* names[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  int32_t vals[] = {h.dim, h.hidden, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab, h.seq_len};
  for (int i = 0; i < 7; ++i)
    if (vals[i] <= 0 || vals[i] > (1 << 24)) fail(path, std::string("header ") + names[i] + " = " + std::to_string(vals[i]) + " is implausible");
  if (h.dim % h.n_heads != 0) fail(path, "dim " + std::to_string(h.dim) + " is not a multiple of n_heads " + std::to_string(h.n_heads));
  if (h.n_heads % h.n_kv_heads != 0) fail(path, "n_heads is not a multiple of n_kv_heads");
  return h;
}

ModelConfig config_from_header(const Header& h) {
  ModelConfig c = llama_family_config();
  c.vocab_size = h.vocab;
  c.context = h.seq_len;
  c.d_model = h.dim;
  c.n_layers = h.n_layers;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.n_kv_heads;
  c.d_ff = h.hidden;
  c.tied_embeddings = h.shared;
  c.rope_style = RopeStyle::interleaved;
  return c;
}

// Floats the weights take, without RoPE tables or the separate classifier.
uint64_t core_floats(const Header& h) {
  uint64_t d = h.dim, f = h.hidden, L = h.n_layers, hs = h.dim / h.n_heads, kv = uint64_t(h.n_kv_heads) * hs;
  return uint64_t(h.vocab) * d + L * d * 2 + L * d * d * 2 + L * d * kv * 2 + L * d * f * 3 + d;
}

struct Layout {
  bool rope_tables;
};

Layout layout_for(const std::string& path, const Header& h, uint64_t size) {
  // Header sizes up to 2^24 each can multiply past 2^64 in the sums below; a config that fits the
  // file's floats cannot.
  validate_config_sizes_for_file(config_from_header(h), "llama2.c checkpoint " + path,
                                 (size - h.data_start) / 4);
  uint64_t hs = h.dim / h.n_heads;
  uint64_t tables = uint64_t(h.seq_len) * hs;  // freq_cis_real + imag, [seq_len, hs/2] each
  uint64_t cls = h.shared ? 0 : uint64_t(h.vocab) * h.dim;
  uint64_t base = core_floats(h) + cls;
  uint64_t have = size - h.data_start;
  if (have == (base + tables) * 4) return {true};
  if (have == base * 4) return {false};
  fail(path, "size " + std::to_string(size) + " does not match the header (dim " + std::to_string(h.dim) +
                 ", layers " + std::to_string(h.n_layers) + ", vocab " + std::to_string(h.vocab) + ", " +
                 (h.shared ? "shared" : "separate") + " classifier): expected " + std::to_string(h.data_start + base * 4) +
                 " or " + std::to_string(h.data_start + (base + tables) * 4) + " bytes (truncated or not a llama2.c file?)");
}

}  // namespace

bool looks_like_llama2c(const std::string& path) {
  try {
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    if (ec) return false;
    std::ifstream in(path, std::ios::binary);
    Header h = read_header(path, in, size);
    layout_for(path, h, size);
    return true;
  } catch (const Error&) {
    return false;
  }
}

LoadedModel load_llama2c(const std::string& path, const std::string& tokenizer_path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(path, "no such file");
  uint64_t size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  Header h = read_header(path, in, size);
  Layout lay = layout_for(path, h, size);
  in.seekg(static_cast<std::streamoff>(h.data_start));

  const int64_t D = h.dim, F = h.hidden, L = h.n_layers, V = h.vocab, hs = D / h.n_heads, KV = h.n_kv_heads * hs;
  LoadedModel m;
  m.format = "llama2c";
  m.path = path;
  ModelConfig& c = m.config;
  c = config_from_header(h);

  auto read = [&](const std::string& name, std::vector<int64_t> shape) {
    Tensor t(std::move(shape));
    in.read(reinterpret_cast<char*>(t.ptr()), static_cast<std::streamsize>(t.numel() * 4));
    if (!in) fail(path, "read failed at " + name);
    m.weights[name] = std::move(t);
  };
  auto per_layer = [&](const std::string& suffix, std::vector<int64_t> shape) {
    for (int64_t l = 0; l < L; ++l) read("layers." + std::to_string(l) + "." + suffix, shape);
  };
  auto skip = [&](uint64_t floats) { in.seekg(static_cast<std::streamoff>(floats * 4), std::ios::cur); };

  if (h.version == 0) {
    read("tok_emb.weight", {V, D});
    per_layer("attn_norm.weight", {D});
    per_layer("attn.wq.weight", {D, D});
    per_layer("attn.wk.weight", {KV, D});
    per_layer("attn.wv.weight", {KV, D});
    per_layer("attn.wo.weight", {D, D});
    per_layer("mlp_norm.weight", {D});
    per_layer("mlp.w1.weight", {F, D});
    per_layer("mlp.w2.weight", {D, F});
    per_layer("mlp.w3.weight", {F, D});
    read("final_norm.weight", {D});
  } else {
    per_layer("attn_norm.weight", {D});
    per_layer("mlp_norm.weight", {D});
    read("final_norm.weight", {D});
    read("tok_emb.weight", {V, D});
    per_layer("attn.wq.weight", {D, D});
    per_layer("attn.wk.weight", {KV, D});
    per_layer("attn.wv.weight", {KV, D});
    per_layer("attn.wo.weight", {D, D});
    per_layer("mlp.w1.weight", {F, D});
    per_layer("mlp.w2.weight", {D, F});
    per_layer("mlp.w3.weight", {F, D});
  }
  if (lay.rope_tables) skip(uint64_t(h.seq_len) * hs);  // recomputed by our RoPE
  if (!h.shared) read("lm_head.weight", {V, D});
  m.notes["llama2c.version"] = h.version == 0 ? "legacy" : "1";
  m.notes["llama2c.rope_tables"] = lay.rope_tables ? "present (skipped)" : "absent";

  std::string tok = tokenizer_path;
  if (tok.empty()) {
    fs::path dir = fs::path(path).parent_path();
    for (const std::string& cand : {std::string("tokenizer.bin"), "tok" + std::to_string(h.vocab) + ".bin"})
      if (fs::exists(dir / cand)) {
        tok = (dir / cand).string();
        break;
      }
  }
  if (!tok.empty()) {
    m.tokenizer = load_llama2c_tokenizer(tok);
    if (m.tokenizer->vocab_size() != h.vocab)
      fail(path, "tokenizer " + tok + " has " + std::to_string(m.tokenizer->vocab_size()) + " tokens but the model has " +
                     std::to_string(h.vocab));
    m.notes["tokenizer"] = tok;
  }
  c.validate();
  return m;
}

}  // namespace attnlab
