#include "core/io/hf_model.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "core/io/safetensors.h"
#include "core/tensor/error.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/util/json_input.h"

namespace attnlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Pulls tensors out of the HF map by name; whatever is left at the end was not understood.
class TensorTaker {
 public:
  TensorTaker(std::map<std::string, Tensor> t, std::string where) : t_(std::move(t)), where_(std::move(where)) {}

  bool has(const std::string& name) const { return t_.count(name) > 0; }
  Tensor take(const std::string& name, const std::vector<int64_t>& shape) {
    auto it = t_.find(name);
    if (it == t_.end()) throw Error(where_ + ": missing tensor '" + name + "'");
    Tensor t = std::move(it->second);
    t_.erase(it);
    if (t.shape != shape)
      throw Error(where_ + ": tensor '" + name + "' has shape " + t.shape_str() + ", expected " + shape_to_string(shape));
    return t;
  }
  void drop_buffers(const std::vector<std::string>& suffixes) {
    for (auto it = t_.begin(); it != t_.end();) {
      bool drop = false;
      for (const std::string& s : suffixes)
        drop |= it->first.size() >= s.size() && it->first.compare(it->first.size() - s.size(), s.size(), s) == 0;
      it = drop ? t_.erase(it) : std::next(it);
    }
  }
  void require_empty() const {
    if (!t_.empty()) throw Error(where_ + ": unexpected tensor '" + t_.begin()->first + "' (not part of the supported layout)");
  }
  // HF checkpoints saved from *ForCausalLM carry a prefix ("transformer.", "model.", "gpt_neox.");
  // some saved from the base model do not. Finds which.
  std::string prefix_for(const std::string& probe, const std::string& prefix) const {
    if (has(prefix + probe)) return prefix;
    if (has(probe)) return "";
    throw Error(where_ + ": missing tensor '" + prefix + probe + "'");
  }

 private:
  std::map<std::string, Tensor> t_;
  std::string where_;
};

Tensor transpose2d(const Tensor& t) {
  Tensor out({t.dim(1), t.dim(0)});
  const int64_t R = t.dim(0), C = t.dim(1);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) out.data[c * R + r] = t.data[r * C + c];
  return out;
}

Tensor rows(const Tensor& t, int64_t begin, int64_t count) {
  int64_t C = t.rank() == 2 ? t.dim(1) : 1;
  Tensor out(t.rank() == 2 ? std::vector<int64_t>{count, C} : std::vector<int64_t>{count});
  std::copy(t.data.begin() + begin * C, t.data.begin() + (begin + count) * C, out.data.begin());
  return out;
}

template <class T>
T get(const json& cfg, const std::string& key, const std::string& where) {
  if (!cfg.contains(key) || cfg[key].is_null()) throw Error(where + ": config.json is missing '" + key + "'");
  return json_get<T>(cfg[key], key, where + ": config.json");
}

template <class T>
T get_or(const json& cfg, const std::string& key, T fallback, const std::string& where) {
  if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
  return get<T>(cfg, key, where);
}

void map_gpt2(const json& cfg, TensorTaker& T, LoadedModel& m, const std::string& where) {
  ModelConfig& c = m.config;
  c.family = "gpt2";
  c.d_model = get<int>(cfg, "n_embd", where);
  c.n_layers = get<int>(cfg, "n_layer", where);
  c.n_heads = get<int>(cfg, "n_head", where);
  c.n_kv_heads = c.n_heads;
  // HF's default n_inner is 4 * n_embd: computed in 64 bits, as n_embd comes from the file.
  const int64_t default_inner = 4 * static_cast<int64_t>(c.d_model);
  if (!cfg.contains("n_inner") || cfg["n_inner"].is_null()) {
    if (default_inner > std::numeric_limits<int>::max())
      throw Error(where + ": config.json: 'n_embd' = " + std::to_string(c.d_model) +
                  " is too large (its default n_inner, 4 * n_embd, does not fit in an int)");
  }
  c.d_ff = get_or<int>(cfg, "n_inner", static_cast<int>(std::max<int64_t>(default_inner, 0)), where);
  c.context = get<int>(cfg, "n_positions", where);
  c.vocab_size = get<int>(cfg, "vocab_size", where);
  c.norm_eps = get_or<float>(cfg, "layer_norm_epsilon", 1e-5f, where);
  c.pos = PosEncoding::learned;
  c.norm = NormKind::layernorm;
  c.bias = true;
  c.parallel_residual = false;
  std::string act = get_or<std::string>(cfg, "activation_function", "gelu_new", where);
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") c.mlp = MlpKind::gelu_tanh;
  else if (act == "gelu") c.mlp = MlpKind::gelu;
  else throw Error(where + ": activation_function '" + act + "' is not supported (gelu_new, gelu)");
  if (get_or<bool>(cfg, "scale_attn_by_inverse_layer_idx", false, where))
    throw Error(where + ": scale_attn_by_inverse_layer_idx is not supported");
  if (!get_or<bool>(cfg, "scale_attn_weights", true, where))
    throw Error(where + ": scale_attn_weights = false is not supported");
  c.tied_embeddings = get_or<bool>(cfg, "tie_word_embeddings", true, where);
  c.bos_token = get_or<int>(cfg, "bos_token_id", -1, where);
  c.bos_policy = "none";  // GPT-2 adds no BOS

  T.drop_buffers({".attn.bias", ".attn.masked_bias"});  // causal-mask buffers of old saves
  const std::string p = T.prefix_for("wte.weight", "transformer.");
  const int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size;
  auto& W = m.weights;
  W["tok_emb.weight"] = T.take(p + "wte.weight", {V, D});
  W["pos_emb.weight"] = T.take(p + "wpe.weight", {c.context, D});
  for (int l = 0; l < c.n_layers; ++l) {
    std::string h = p + "h." + std::to_string(l) + ".", o = "layers." + std::to_string(l) + ".";
    W[o + "attn_norm.weight"] = T.take(h + "ln_1.weight", {D});
    W[o + "attn_norm.bias"] = T.take(h + "ln_1.bias", {D});
    Tensor qkv = transpose2d(T.take(h + "attn.c_attn.weight", {D, 3 * D}));  // Conv1D [in, out]
    Tensor qkv_b = T.take(h + "attn.c_attn.bias", {3 * D});
    const char* parts[] = {"attn.wq", "attn.wk", "attn.wv"};
    for (int j = 0; j < 3; ++j) {
      W[o + parts[j] + ".weight"] = rows(qkv, j * D, D);
      W[o + parts[j] + ".bias"] = rows(qkv_b, j * D, D);
    }
    W[o + "attn.wo.weight"] = transpose2d(T.take(h + "attn.c_proj.weight", {D, D}));
    W[o + "attn.wo.bias"] = T.take(h + "attn.c_proj.bias", {D});
    W[o + "mlp_norm.weight"] = T.take(h + "ln_2.weight", {D});
    W[o + "mlp_norm.bias"] = T.take(h + "ln_2.bias", {D});
    W[o + "mlp.w1.weight"] = transpose2d(T.take(h + "mlp.c_fc.weight", {D, F}));
    W[o + "mlp.w1.bias"] = T.take(h + "mlp.c_fc.bias", {F});
    W[o + "mlp.w2.weight"] = transpose2d(T.take(h + "mlp.c_proj.weight", {F, D}));
    W[o + "mlp.w2.bias"] = T.take(h + "mlp.c_proj.bias", {D});
  }
  W["final_norm.weight"] = T.take(p + "ln_f.weight", {D});
  W["final_norm.bias"] = T.take(p + "ln_f.bias", {D});
  if (T.has("lm_head.weight")) {
    Tensor head = T.take("lm_head.weight", {V, D});
    if (!c.tied_embeddings) W["lm_head.weight"] = std::move(head);
  } else if (!c.tied_embeddings) {
    throw Error(where + ": missing tensor 'lm_head.weight' (tie_word_embeddings is false)");
  }
}

void map_neox(const json& cfg, TensorTaker& T, LoadedModel& m, const std::string& where) {
  ModelConfig& c = m.config;
  c.family = "gpt_neox";
  c.d_model = get<int>(cfg, "hidden_size", where);
  c.n_layers = get<int>(cfg, "num_hidden_layers", where);
  c.n_heads = get<int>(cfg, "num_attention_heads", where);
  c.n_kv_heads = c.n_heads;
  c.d_ff = get<int>(cfg, "intermediate_size", where);
  c.context = get<int>(cfg, "max_position_embeddings", where);
  c.vocab_size = get<int>(cfg, "vocab_size", where);
  c.norm_eps = get_or<float>(cfg, "layer_norm_eps", 1e-5f, where);
  c.pos = PosEncoding::rope;
  c.rope_style = RopeStyle::half;
  c.rope_theta = get_or<float>(cfg, "rope_theta", get_or<float>(cfg, "rotary_emb_base", 10000.0f, where), where);
  if (c.n_heads <= 0 || c.d_model % c.n_heads) throw Error(where + ": hidden_size is not a multiple of num_attention_heads");
  const int Dh = c.d_model / c.n_heads;
  // HF: rotary_ndims = int(head_size * rotary_pct); we store the exact fraction of that count.
  // A fraction outside [0, 1] would make the cast to int below undefined for large values.
  const double rotary_pct = get_or<double>(cfg, "rotary_pct", 1.0, where);
  if (!(rotary_pct >= 0.0 && rotary_pct <= 1.0))
    throw Error(where + ": config.json: 'rotary_pct' = " + cfg["rotary_pct"].dump() + " is outside [0, 1]");
  int rot = static_cast<int>(Dh * rotary_pct);
  if (rot % 2) throw Error(where + ": rotary_pct gives an odd number of rotary dims (" + std::to_string(rot) + ")");
  c.rotary_pct = static_cast<float>(rot) / static_cast<float>(Dh);
  if (cfg.contains("rope_scaling") && !cfg["rope_scaling"].is_null()) throw Error(where + ": rope_scaling is not supported");
  c.norm = NormKind::layernorm;
  std::string act = get_or<std::string>(cfg, "hidden_act", "gelu", where);
  if (act == "gelu") c.mlp = MlpKind::gelu;
  else if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") c.mlp = MlpKind::gelu_tanh;
  else throw Error(where + ": hidden_act '" + act + "' is not supported");
  if (!get_or<bool>(cfg, "attention_bias", true, where)) throw Error(where + ": attention_bias = false is not supported for gpt_neox");
  c.bias = true;
  c.parallel_residual = get_or<bool>(cfg, "use_parallel_residual", true, where);
  c.tied_embeddings = get_or<bool>(cfg, "tie_word_embeddings", false, where);
  c.bos_token = get_or<int>(cfg, "bos_token_id", -1, where);
  c.bos_policy = "none";

  T.drop_buffers({".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq"});
  const std::string p = T.prefix_for("embed_in.weight", "gpt_neox.");
  const int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, H = c.n_heads;
  auto& W = m.weights;
  W["tok_emb.weight"] = T.take(p + "embed_in.weight", {V, D});
  for (int l = 0; l < c.n_layers; ++l) {
    std::string h = p + "layers." + std::to_string(l) + ".", o = "layers." + std::to_string(l) + ".";
    W[o + "attn_norm.weight"] = T.take(h + "input_layernorm.weight", {D});
    W[o + "attn_norm.bias"] = T.take(h + "input_layernorm.bias", {D});
    W[o + "mlp_norm.weight"] = T.take(h + "post_attention_layernorm.weight", {D});
    W[o + "mlp_norm.bias"] = T.take(h + "post_attention_layernorm.bias", {D});
    // query_key_value rows: head h holds [q (Dh rows), k (Dh), v (Dh)] in turn.
    Tensor qkv = T.take(h + "attention.query_key_value.weight", {3 * D, D});
    Tensor qkv_b = T.take(h + "attention.query_key_value.bias", {3 * D});
    const char* parts[] = {"attn.wq", "attn.wk", "attn.wv"};
    for (int j = 0; j < 3; ++j) {
      Tensor w({D, D}), b({D});
      for (int64_t hh = 0; hh < H; ++hh)
        for (int64_t d = 0; d < Dh; ++d) {
          int64_t src = hh * 3 * Dh + j * Dh + d, dst = hh * Dh + d;
          std::copy(qkv.data.begin() + src * D, qkv.data.begin() + (src + 1) * D, w.data.begin() + dst * D);
          b.data[dst] = qkv_b.data[src];
        }
      W[o + parts[j] + ".weight"] = std::move(w);
      W[o + parts[j] + ".bias"] = std::move(b);
    }
    W[o + "attn.wo.weight"] = T.take(h + "attention.dense.weight", {D, D});
    W[o + "attn.wo.bias"] = T.take(h + "attention.dense.bias", {D});
    W[o + "mlp.w1.weight"] = T.take(h + "mlp.dense_h_to_4h.weight", {F, D});
    W[o + "mlp.w1.bias"] = T.take(h + "mlp.dense_h_to_4h.bias", {F});
    W[o + "mlp.w2.weight"] = T.take(h + "mlp.dense_4h_to_h.weight", {D, F});
    W[o + "mlp.w2.bias"] = T.take(h + "mlp.dense_4h_to_h.bias", {D});
  }
  W["final_norm.weight"] = T.take(p + "final_layer_norm.weight", {D});
  W["final_norm.bias"] = T.take(p + "final_layer_norm.bias", {D});
  if (c.tied_embeddings) {
    if (T.has("embed_out.weight")) T.take("embed_out.weight", {V, D});
  } else {
    W["lm_head.weight"] = T.take("embed_out.weight", {V, D});
  }
}

void map_llama(const json& cfg, TensorTaker& T, LoadedModel& m, const std::string& where, const std::string& type) {
  ModelConfig& c = m.config;
  c = llama_family_config();
  c.family = type == "qwen2" ? "qwen2" : "llama";
  c.d_model = get<int>(cfg, "hidden_size", where);
  c.n_layers = get<int>(cfg, "num_hidden_layers", where);
  c.n_heads = get<int>(cfg, "num_attention_heads", where);
  c.n_kv_heads = get_or<int>(cfg, "num_key_value_heads", c.n_heads, where);
  c.d_ff = get<int>(cfg, "intermediate_size", where);
  c.context = get<int>(cfg, "max_position_embeddings", where);
  c.vocab_size = get<int>(cfg, "vocab_size", where);
  c.norm_eps = get_or<float>(cfg, "rms_norm_eps", 1e-6f, where);
  c.rope_theta = get_or<float>(cfg, "rope_theta", 10000.0f, where);
  c.rope_style = RopeStyle::half;  // HF stores q/k rows permuted for rotate_half
  if (c.n_heads <= 0 || c.d_model % c.n_heads) throw Error(where + ": hidden_size is not a multiple of num_attention_heads");
  if (cfg.contains("head_dim") && !cfg["head_dim"].is_null() && get<int>(cfg, "head_dim", where) != c.d_model / c.n_heads)
    throw Error(where + ": head_dim != hidden_size / num_attention_heads is not supported");
  if (cfg.contains("rope_scaling") && !cfg["rope_scaling"].is_null()) throw Error(where + ": rope_scaling is not supported");
  std::string act = get_or<std::string>(cfg, "hidden_act", "silu", where);
  if (act != "silu") throw Error(where + ": hidden_act '" + act + "' is not supported (silu)");
  const bool mlp_bias = get_or<bool>(cfg, "mlp_bias", false, where);
  const bool attn_bias = get_or<bool>(cfg, "attention_bias", false, where);  // q, k, v and o
  const bool qkv_bias = type == "qwen2" || attn_bias;
  c.tied_embeddings = get_or<bool>(cfg, "tie_word_embeddings", type == "qwen2" ? false : false, where);
  c.bos_token = get_or<int>(cfg, "bos_token_id", 1, where);
  if (c.bos_token >= c.vocab_size) c.bos_token = -1;
  // Sliding-window attention only differs from full attention beyond the window: cap the
  // context there so every sequence we run is exact.
  if (get_or<bool>(cfg, "use_sliding_window", type == "mistral", where)) {
    int w = get_or<int>(cfg, "sliding_window", 0, where);
    if (w > 0 && w < c.context) {
      c.context = w;
      m.notes["context"] = "capped at sliding_window " + std::to_string(w);
    }
  }

  T.drop_buffers({".rotary_emb.inv_freq"});
  const std::string p = T.prefix_for("embed_tokens.weight", "model.");
  const int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, Dh = D / c.n_heads, KV = c.n_kv_heads * Dh;
  auto& W = m.weights;
  W["tok_emb.weight"] = T.take(p + "embed_tokens.weight", {V, D});
  for (int l = 0; l < c.n_layers; ++l) {
    std::string h = p + "layers." + std::to_string(l) + ".", o = "layers." + std::to_string(l) + ".";
    W[o + "attn_norm.weight"] = T.take(h + "input_layernorm.weight", {D});
    W[o + "mlp_norm.weight"] = T.take(h + "post_attention_layernorm.weight", {D});
    W[o + "attn.wq.weight"] = T.take(h + "self_attn.q_proj.weight", {D, D});
    W[o + "attn.wk.weight"] = T.take(h + "self_attn.k_proj.weight", {KV, D});
    W[o + "attn.wv.weight"] = T.take(h + "self_attn.v_proj.weight", {KV, D});
    W[o + "attn.wo.weight"] = T.take(h + "self_attn.o_proj.weight", {D, D});
    W[o + "mlp.w1.weight"] = T.take(h + "mlp.gate_proj.weight", {F, D});
    W[o + "mlp.w3.weight"] = T.take(h + "mlp.up_proj.weight", {F, D});
    W[o + "mlp.w2.weight"] = T.take(h + "mlp.down_proj.weight", {D, F});
    if (qkv_bias || mlp_bias) {
      // Our linears have biases on all or none; the ones the checkpoint lacks are exact zeros.
      auto bias = [&](const std::string& ours, const std::string& theirs, int64_t n, bool present) {
        W[o + ours + ".bias"] = present ? T.take(h + theirs + ".bias", {n}) : Tensor({n});
      };
      bias("attn.wq", "self_attn.q_proj", D, qkv_bias);
      bias("attn.wk", "self_attn.k_proj", KV, qkv_bias);
      bias("attn.wv", "self_attn.v_proj", KV, qkv_bias);
      bias("attn.wo", "self_attn.o_proj", D, attn_bias);
      bias("mlp.w1", "mlp.gate_proj", F, mlp_bias);
      bias("mlp.w3", "mlp.up_proj", F, mlp_bias);
      bias("mlp.w2", "mlp.down_proj", D, mlp_bias);
    }
  }
  c.bias = qkv_bias || mlp_bias;
  W["final_norm.weight"] = T.take(p + "norm.weight", {D});
  if (c.tied_embeddings) {
    if (T.has("lm_head.weight")) T.take("lm_head.weight", {V, D});
  } else {
    W["lm_head.weight"] = T.take("lm_head.weight", {V, D});
  }
}

}  // namespace

bool is_hf_folder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(fs::path(path) / "config.json", ec);
}

LoadedModel map_hf_model(const json& cfg, std::map<std::string, Tensor> hf_tensors, const std::string& where) {
  if (!cfg.is_object()) throw Error(where + ": config.json is not a JSON object");
  std::string type = get<std::string>(cfg, "model_type", where);
  LoadedModel m;
  m.format = "hf";
  m.notes["hf.model_type"] = type;
  uint64_t file_values = 0;
  for (const auto& [name, t] : hf_tensors) file_values += t.data.size();
  TensorTaker T(std::move(hf_tensors), where);
  if (type == "gpt2") map_gpt2(cfg, T, m, where);
  else if (type == "gpt_neox") map_neox(cfg, T, m, where);
  else if (type == "llama" || type == "mistral" || type == "qwen2") map_llama(cfg, T, m, where, type);
  else throw Error(where + ": model_type '" + type + "' is not supported (gpt2, gpt_neox, llama, mistral, qwen2)");
  T.require_empty();
  // Mapping already matched every tensor's shape; this keeps the loaders' size checks uniform.
  validate_config_sizes_for_file(m.config, where + ": config.json", file_values);
  m.config.validate();
  return m;
}

LoadedModel load_hf_folder(const std::string& path) {
  fs::path dir(path);
  std::string where = "HF model " + path;
  std::ifstream in(dir / "config.json");
  if (!in) throw Error(where + ": cannot open config.json");
  json cfg;
  try {
    cfg = parse_json_bounded(in, where + ": config.json");
  } catch (const json::exception& e) {
    throw Error(where + ": config.json is not valid JSON: " + e.what());
  }
  SafetensorsFile st = read_safetensors_any(path);
  LoadedModel m = map_hf_model(cfg, std::move(st.tensors), where);
  m.path = path;
  if (fs::exists(dir / "tokenizer.json")) {
    // A tokenizer we cannot reproduce exactly (e.g. a custom Split pattern) does not stop the
    // model from loading: it loads without one, and the reason is shown with the model.
    try {
      m.tokenizer = load_hf_tokenizer(dir.string());
    } catch (const Error& e) {
      m.notes["tokenizer"] = std::string("not loaded: ") + e.what();
    }
    if (m.tokenizer) {
      if (m.tokenizer->vocab_size() > m.config.vocab_size)
        throw Error(where + ": tokenizer.json has " + std::to_string(m.tokenizer->vocab_size()) +
                    " tokens, more than the model's vocab_size " + std::to_string(m.config.vocab_size));
      m.config.bos_policy = m.tokenizer->bos_policy();
      if (m.tokenizer->bos_id() >= 0) m.config.bos_token = m.tokenizer->bos_id();
    }
  }
  return m;
}

}  // namespace attnlab
