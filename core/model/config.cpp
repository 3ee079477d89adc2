#include "core/model/config.h"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/attention/attention.h"
#include "core/tensor/error.h"
#include "core/util/checked_math.h"
#include "core/util/json_input.h"

namespace attnlab {

using nlohmann::json;

namespace {

template <typename E>
E parse_enum(const std::string& key, const std::string& value,
             const std::vector<std::pair<std::string, E>>& options) {
  std::string names;
  for (const auto& [name, e] : options) {
    if (name == value) return e;
    names += (names.empty() ? "" : ", ") + name;
  }
  throw Error("config key '" + key + "': unknown value '" + value + "' (expected one of: " + names +
              ")");
}

const std::vector<std::pair<std::string, PosEncoding>> kPos = {{"none", PosEncoding::none},
                                                               {"learned", PosEncoding::learned},
                                                               {"rope", PosEncoding::rope},
                                                               {"alibi", PosEncoding::alibi}};
const std::vector<std::pair<std::string, NormKind>> kNorm = {{"layernorm", NormKind::layernorm},
                                                             {"rmsnorm", NormKind::rmsnorm}};
const std::vector<std::pair<std::string, MlpKind>> kMlp = {{"gelu", MlpKind::gelu},
                                                           {"gelu_tanh", MlpKind::gelu_tanh},
                                                           {"swiglu", MlpKind::swiglu},
                                                           {"none", MlpKind::none}};
const std::vector<std::pair<std::string, RopeStyle>> kRope = {
    {"interleaved", RopeStyle::interleaved}, {"half", RopeStyle::half}};

template <typename E>
std::string enum_name(E e, const std::vector<std::pair<std::string, E>>& options) {
  for (const auto& [name, v] : options)
    if (v == e) return name;
  return "?";
}

void require_positive(const std::string& key, double v) {
  if (!(v > 0)) throw Error("model config: " + key + " must be positive, got " + std::to_string(v));
}

}  // namespace

std::string to_string(PosEncoding p) { return enum_name(p, kPos); }
std::string to_string(NormKind n) { return enum_name(n, kNorm); }
std::string to_string(MlpKind m) { return enum_name(m, kMlp); }
std::string to_string(RopeStyle r) { return enum_name(r, kRope); }

int ModelConfig::rotary_dims() const {
  int r = int(head_dim() * rotary_pct + 0.5f);
  return r - r % 2;
}

const std::string& ModelConfig::attention_for_layer(int layer) const {
  return attention.size() == 1 ? attention[0] : attention.at(size_t(layer));
}

AttnBuildContext ModelConfig::attention_context(int layer) const {
  AttnBuildContext ctx;
  ctx.n_heads = n_heads;
  ctx.head_dim = head_dim();
  ctx.d_model = d_model;
  ctx.layer = layer;
  ctx.n_layers = n_layers;
  ctx.context = context;
  return ctx;
}

void ModelConfig::validate() const {
  if (input_dim < 0) throw Error("model config: input_dim must be >= 0");
  if (input_dim == 0) require_positive("vocab_size", vocab_size);
  require_positive("context", context);
  require_positive("d_model", d_model);
  require_positive("n_layers", n_layers);
  require_positive("n_heads", n_heads);
  require_positive("n_kv_heads", n_kv_heads);
  if (mlp != MlpKind::none) require_positive("d_ff", d_ff);
  require_positive("norm_eps", norm_eps);
  if (d_model % n_heads != 0)
    throw Error("model config: d_model (" + std::to_string(d_model) +
                ") is not divisible by n_heads (" + std::to_string(n_heads) + ")");
  if (n_heads % n_kv_heads != 0)
    throw Error("model config: n_heads (" + std::to_string(n_heads) +
                ") is not a multiple of n_kv_heads (" + std::to_string(n_kv_heads) + ")");
  if (pos == PosEncoding::rope) {
    if (rotary_pct <= 0 || rotary_pct > 1)
      throw Error("model config: rotary_pct must be in (0, 1], got " + std::to_string(rotary_pct));
    if (rotary_dims() < 2) throw Error("model config: rotary_pct leaves fewer than 2 rotary dims");
    require_positive("rope_theta", rope_theta);
  }
  if (attention.empty()) throw Error("model config: 'attention' needs at least one spec");
  if (attention.size() != 1 && int(attention.size()) != n_layers)
    throw Error("model config: 'attention' lists " + std::to_string(attention.size()) +
                " specs for " + std::to_string(n_layers) +
                " layers (give one per layer, or a single one for all)");
  if (bos_token >= vocab_size)
    throw Error("model config: bos_token " + std::to_string(bos_token) +
                " is outside the vocabulary");
}

std::optional<uint64_t> config_weight_count(const ModelConfig& c) {
  // Negative sizes are validate()'s to report; here they count as nothing.
  auto u = [](int v) { return static_cast<uint64_t>(std::max(v, 0)); };
  const uint64_t V = c.input_dim > 0 ? 0 : u(c.vocab_size), D = u(c.d_model), F = u(c.d_ff);
  const uint64_t kv = c.n_heads > 0 ? u(c.n_kv_heads) * (D / u(c.n_heads)) : D;
  const uint64_t matrices = c.mlp == MlpKind::none ? 0 : c.mlp == MlpKind::swiglu ? 3 : 2;
  std::optional<uint64_t> total = 0;
  auto add = [&](std::optional<uint64_t> term) {
    total = total && term ? checked_add(*total, *term) : std::nullopt;
  };
  auto mul = [](std::optional<uint64_t> a, uint64_t b) {
    return a ? checked_mul(*a, b) : std::nullopt;
  };
  add(mul(V, D));                          // token embedding
  if (!c.tied_embeddings) add(mul(V, D));  // lm_head
  if (c.pos == PosEncoding::learned) add(mul(u(c.context), D));
  std::optional<uint64_t> layer = mul(D, 2 * D);         // wq, wo
  std::optional<uint64_t> kv_proj = mul(mul(kv, D), 2);  // wk, wv
  std::optional<uint64_t> mlp = mul(mul(F, D), matrices);
  for (std::optional<uint64_t> part : {kv_proj, mlp})
    layer = layer && part ? checked_add(*layer, *part) : std::nullopt;
  add(mul(layer, u(c.n_layers)));
  return total;
}

void validate_config_sizes(const ModelConfig& c, const std::string& source, uint64_t max_values,
                           const std::string& limit_what) {
  std::optional<uint64_t> n = config_weight_count(c);
  if (n && *n <= max_values) return;
  throw Error(source + ": model config (n_layers " + std::to_string(c.n_layers) + ", d_model " +
              std::to_string(c.d_model) + ", d_ff " + std::to_string(c.d_ff) + ", vocab_size " +
              std::to_string(c.vocab_size) + ", context " + std::to_string(c.context) + ") needs " +
              (n ? std::to_string(*n) : "more than 2^64") + " weights, over the limit of " +
              std::to_string(max_values) + " (" + limit_what + ")");
}

void validate_config_sizes_for_file(const ModelConfig& c, const std::string& source,
                                    uint64_t file_values) {
  validate_config_sizes(
      c, source, 2 * file_values,
      "twice the " + std::to_string(file_values) + " values the file's tensors hold");
}

uint64_t memory_weight_limit() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const uint64_t bytes =
      pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : (uint64_t(16) << 30);
  return bytes / (2 * sizeof(float));  // a weight and its gradient
}

void to_json(json& j, const ModelConfig& c) {
  j = json{{"family", c.family},
           {"vocab_size", c.vocab_size},
           {"context", c.context},
           {"d_model", c.d_model},
           {"n_layers", c.n_layers},
           {"n_heads", c.n_heads},
           {"n_kv_heads", c.n_kv_heads},
           {"d_ff", c.d_ff},
           {"pos", to_string(c.pos)},
           {"rope_style", to_string(c.rope_style)},
           {"rope_theta", c.rope_theta},
           {"rotary_pct", c.rotary_pct},
           {"norm", to_string(c.norm)},
           {"norm_eps", c.norm_eps},
           {"mlp", to_string(c.mlp)},
           {"bias", c.bias},
           {"parallel_residual", c.parallel_residual},
           {"tied_embeddings", c.tied_embeddings},
           {"attention", c.attention},
           {"input_dim", c.input_dim},
           {"bos_token", c.bos_token},
           {"bos_policy", c.bos_policy}};
}

void from_json(const json& j, ModelConfig& c) {
  if (!j.is_object()) throw Error("model config must be a JSON/TOML table");
  static const std::set<std::string> known = {
      "family",     "vocab_size", "context",   "d_model",    "n_layers",          "n_heads",
      "n_kv_heads", "d_ff",       "pos",       "rope_style", "rope_theta",        "rotary_pct",
      "norm",       "norm_eps",   "mlp",       "bias",       "parallel_residual", "tied_embeddings",
      "attention",  "input_dim",  "bos_token", "bos_policy"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) throw Error("model config: unknown key '" + it.key() + "'");
  auto get = [&](const char* key, auto& out) {
    if (j.contains(key))
      out = json_get<std::decay_t<decltype(out)>>(j.at(key), key, "model config");
  };
  get("family", c.family);
  get("vocab_size", c.vocab_size);
  get("context", c.context);
  get("d_model", c.d_model);
  get("n_layers", c.n_layers);
  get("n_heads", c.n_heads);
  c.n_kv_heads = c.n_heads;
  get("n_kv_heads", c.n_kv_heads);
  get("d_ff", c.d_ff);
  std::string s;
  if (j.contains("pos")) get("pos", s), c.pos = parse_enum("pos", s, kPos);
  if (j.contains("rope_style"))
    get("rope_style", s), c.rope_style = parse_enum("rope_style", s, kRope);
  get("rope_theta", c.rope_theta);
  get("rotary_pct", c.rotary_pct);
  if (j.contains("norm")) get("norm", s), c.norm = parse_enum("norm", s, kNorm);
  get("norm_eps", c.norm_eps);
  if (j.contains("mlp")) get("mlp", s), c.mlp = parse_enum("mlp", s, kMlp);
  get("bias", c.bias);
  get("parallel_residual", c.parallel_residual);
  get("tied_embeddings", c.tied_embeddings);
  if (j.contains("attention")) {
    if (j["attention"].is_string())
      c.attention = {j["attention"].get<std::string>()};
    else
      get("attention", c.attention);
  }
  get("input_dim", c.input_dim);
  get("bos_token", c.bos_token);
  get("bos_policy", c.bos_policy);
}

ModelConfig preset_config(const std::string& name) {
  ModelConfig c;
  if (name == "tiny") {  // seconds on a laptop core: tests and the quick demo
    c.family = "llama";
    c.vocab_size = 256;
    c.context = 64;
    c.d_model = 64;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 4;
    c.d_ff = 192;
  } else if (name == "small") {  // the README's main job: minutes on 2 cores
    c.family = "llama";
    c.vocab_size = 256;
    c.context = 128;
    c.d_model = 128;
    c.n_layers = 4;
    c.n_heads = 4;
    c.n_kv_heads = 4;
    c.d_ff = 384;
  } else if (name == "gpt2-bench") {  // the benchmark shape of issue 2
    c.family = "gpt2";
    c.vocab_size = 256;
    c.context = 256;
    c.d_model = 256;
    c.n_layers = 6;
    c.n_heads = 8;
    c.n_kv_heads = 8;
    c.d_ff = 1024;
    c.pos = PosEncoding::learned;
    c.norm = NormKind::layernorm;
    c.mlp = MlpKind::gelu_tanh;
    c.bias = true;
  } else if (name == "llama-tiny") {  // GQA + RoPE, for tests
    c.family = "llama";
    c.vocab_size = 128;
    c.context = 64;
    c.d_model = 64;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.d_ff = 128;
  } else {
    throw Error("unknown model preset '" + name +
                "' (presets: tiny, small, gpt2-bench, llama-tiny)");
  }
  return c;
}

}  // namespace attnlab
