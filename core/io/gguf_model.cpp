#include "core/io/gguf_model.h"

#include <limits>
#include <optional>
#include <set>

#include "core/io/ggml_quants.h"
#include "core/io/gguf.h"
#include "core/tensor/error.h"
#include "core/tokenizer/sentencepiece_bpe.h"
#include "core/util/checked_math.h"

namespace attnlab {

LoadedModel load_gguf_model(const std::string& path) {
  GgufFile f = read_gguf(path);
  auto fail = [&](const std::string& msg) -> Error { return Error("gguf " + path + ": " + msg); };
  std::string arch = f.get_string("general.architecture");
  if (arch != "llama" && arch != "qwen2")
    throw fail("architecture '" + arch + "' is not supported (supported: llama, qwen2)");
  const std::string a = arch + ".";

  LoadedModel m;
  m.format = "gguf";
  m.path = path;
  ModelConfig& c = m.config;
  c = llama_family_config();
  c.family = arch == "llama" ? "llama" : "qwen2";
  // ModelConfig holds ints: a larger value would silently wrap.
  auto int_key = [&](const std::string& key, std::optional<int64_t> fallback = std::nullopt) {
    int64_t v = fallback && !f.has(key) ? *fallback : f.get_int(key);
    if (v < 0 || v > std::numeric_limits<int>::max())
      throw fail("metadata '" + key + "' = " + std::to_string(v) + " is outside [0, 2^31)");
    return static_cast<int>(v);
  };
  c.d_model = int_key(a + "embedding_length");
  c.n_layers = int_key(a + "block_count");
  c.n_heads = int_key(a + "attention.head_count");
  c.n_kv_heads = int_key(a + "attention.head_count_kv", c.n_heads);
  c.d_ff = int_key(a + "feed_forward_length");
  c.context = int_key(a + "context_length");
  c.norm_eps = static_cast<float>(f.get_float(a + "attention.layer_norm_rms_epsilon", 1e-5));
  c.rope_theta = static_cast<float>(f.get_float(a + "rope.freq_base", 10000.0));
  if (c.n_heads <= 0 || c.d_model % c.n_heads != 0) throw fail("embedding_length is not a multiple of head_count");
  int head_dim = c.d_model / c.n_heads;
  int rot = int_key(a + "rope.dimension_count", head_dim);
  c.rotary_pct = static_cast<float>(rot) / static_cast<float>(head_dim);
  c.rope_style = arch == "llama" ? RopeStyle::interleaved : RopeStyle::half;
  if (f.has(a + "rope.scaling.type") && f.get_string(a + "rope.scaling.type") != "none")
    throw fail("RoPE scaling '" + f.get_string(a + "rope.scaling.type") + "' is not supported");
  if (f.tensors.count("rope_freqs.weight")) throw fail("tensor 'rope_freqs.weight' (Llama 3.1 RoPE scaling) is not supported");

  // The name table below has entries per layer: check the sizes against the file first. The
  // vocabulary comes from token_embd later, so the check counts the layers and the embedding's
  // width alone.
  uint64_t file_values = 0;
  for (const auto& [name, info] : f.tensors)
    file_values += *checked_numel(info.shape);  // read_gguf checked each
  c.vocab_size = 0;
  validate_config_sizes_for_file(c, "gguf " + path, file_values);

  // GGUF name -> our name. Everything in the file must be claimed: an unknown tensor means an
  // architecture detail we would silently drop.
  std::map<std::string, std::string> names = {
      {"token_embd.weight", "tok_emb.weight"}, {"output_norm.weight", "final_norm.weight"}, {"output.weight", "lm_head.weight"}};
  const std::pair<const char*, const char*> per_layer[] = {
      {"attn_norm.weight", "attn_norm.weight"}, {"attn_q.weight", "attn.wq.weight"}, {"attn_k.weight", "attn.wk.weight"},
      {"attn_v.weight", "attn.wv.weight"},      {"attn_output.weight", "attn.wo.weight"}, {"ffn_norm.weight", "mlp_norm.weight"},
      {"ffn_gate.weight", "mlp.w1.weight"},     {"ffn_up.weight", "mlp.w3.weight"},    {"ffn_down.weight", "mlp.w2.weight"},
      {"attn_q.bias", "attn.wq.bias"},          {"attn_k.bias", "attn.wk.bias"},       {"attn_v.bias", "attn.wv.bias"}};
  for (int l = 0; l < c.n_layers; ++l)
    for (const auto& [g, ours] : per_layer)
      names["blk." + std::to_string(l) + "." + g] = "layers." + std::to_string(l) + "." + ours;

  std::map<std::string, int> type_counts;
  for (const auto& [gname, info] : f.tensors) {
    auto it = names.find(gname);
    if (it == names.end()) throw fail("tensor '" + gname + "' is not part of the " + arch + " layout we load");
    m.weights[it->second] = read_gguf_tensor(f, gname);
    type_counts[ggml_type_name(info.type)]++;
  }
  std::string types;
  for (const auto& [t, n] : type_counts) types += (types.empty() ? "" : ", ") + t + " x" + std::to_string(n);
  m.notes["gguf.version"] = std::to_string(f.version);
  m.notes["gguf.tensor_types"] = types;
  m.notes["gguf.architecture"] = arch;

  auto emb = m.weights.find("tok_emb.weight");
  if (emb == m.weights.end()) throw fail("missing tensor 'token_embd.weight'");
  c.vocab_size = static_cast<int>(emb->second.dim(0));
  c.tied_embeddings = !m.weights.count("lm_head.weight");
  tie_if_identical(m);

  bool has_bias = m.weights.count("layers.0.attn.wq.bias") > 0;
  if (has_bias) {
    // Our layers carry biases on every linear or none; the ones qwen2 lacks are exact zeros.
    c.bias = true;
    for (int l = 0; l < c.n_layers; ++l) {
      std::string p = "layers." + std::to_string(l) + ".";
      for (const char* w : {"attn.wq", "attn.wk", "attn.wv", "attn.wo", "mlp.w1", "mlp.w2", "mlp.w3"}) {
        std::string wname = p + w + ".weight", bname = p + w + ".bias";
        auto wt = m.weights.find(wname);
        if (wt == m.weights.end()) throw fail("missing tensor for '" + wname + "'");
        if (!m.weights.count(bname)) m.weights[bname] = Tensor({wt->second.dim(0)});
      }
    }
  }

  if (f.has("tokenizer.ggml.model")) {
    std::string tm = f.get_string("tokenizer.ggml.model");
    if (tm == "llama") {
      m.tokenizer = sentencepiece_from_gguf(f);
    } else {
      m.notes["tokenizer"] = "GGUF tokenizer model '" + tm + "' is not supported; loaded without a tokenizer";
    }
  }
  if (m.tokenizer) {
    c.bos_token = m.tokenizer->bos_id();
    c.bos_policy = m.tokenizer->bos_policy();
    if (m.tokenizer->vocab_size() != c.vocab_size)
      throw fail("tokenizer has " + std::to_string(m.tokenizer->vocab_size()) + " tokens but token_embd has " +
                 std::to_string(c.vocab_size) + " rows");
  }
  c.validate();
  return m;
}

}  // namespace attnlab
