#pragma once
// The model description. It covers the families users load (GPT-2, Llama, GPT-NeoX/Pythia)
// and our own trained models; the attention variant is chosen per layer.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace attnlab {

struct AttnBuildContext;  // core/attention/attention.h

enum class PosEncoding { none, learned, rope, alibi };
// How RoPE pairs dimensions: interleaved pairs (2i, 2i+1) as in GPT-J, llama2.c and GGUF,
// or halves (i, i + rot/2) as in GPT-NeoX and Hugging Face Llama.
enum class RopeStyle { interleaved, half };
enum class NormKind { layernorm, rmsnorm };
// none: attention-only blocks (Olsson et al.'s induction-head models; Zoology's MQAR mixers).
enum class MlpKind { gelu, gelu_tanh, swiglu, none };

struct ModelConfig {
  std::string family = "custom";  // gpt2 | llama | gpt_neox | custom (informational)
  int vocab_size = 256;
  int context = 256;              // maximum sequence length
  int d_model = 128;
  int n_layers = 2;
  int n_heads = 4;
  int n_kv_heads = 4;             // < n_heads: grouped-query attention
  int d_ff = 512;
  PosEncoding pos = PosEncoding::rope;
  RopeStyle rope_style = RopeStyle::interleaved;
  float rope_theta = 10000.0f;
  float rotary_pct = 1.0f;        // fraction of each head's dims that rotate (GPT-NeoX: 0.25)
  NormKind norm = NormKind::rmsnorm;
  float norm_eps = 1e-5f;
  MlpKind mlp = MlpKind::swiglu;
  bool bias = false;              // biases on linear layers (GPT-2, NeoX)
  bool parallel_residual = false; // x + attn(ln1(x)) + mlp(ln2(x)) (GPT-NeoX)
  bool tied_embeddings = true;
  // One attention spec per layer; a single entry applies to every layer.
  std::vector<std::string> attention = {"softmax"};
  // > 0: the model reads continuous inputs [B, T, input_dim] through a linear layer and predicts
  // one scalar per position (in-context regression, Garg et al. 2022); tokens are not used.
  int input_dim = 0;
  int bos_token = -1;             // -1: the model has no BOS token
  std::string bos_policy = "none";  // "prepend" (Llama) or "none" (GPT-2): recorded with analyses

  int head_dim() const { return d_model / n_heads; }
  int rotary_dims() const;
  const std::string& attention_for_layer(int layer) const;
  // What make_attention needs to build layer `layer`'s variant for this model.
  AttnBuildContext attention_context(int layer) const;

  // Throws attnlab::Error naming the inconsistency (d_model % n_heads, n_heads % n_kv_heads, ...).
  void validate() const;
};

// Loaders build Transformers and name tables from a config read out of a file, before they
// match it with the file's tensors; a config claiming n_layers = 100000 and d_model = 1e6 would
// allocate until the machine gives out. So sizes are checked first.
//
// The values the config's embeddings and linear layers take (norms and attention-variant
// parameters, all small, are left out: a lower bound on a Transformer's weights). nullopt when
// the count overflows 64 bits.
std::optional<uint64_t> config_weight_count(const ModelConfig& c);
// Throws attnlab::Error naming `source`, the size keys and the limit when the config needs more
// than `max_values` weights; `limit_what` says where the limit comes from ("the file holds").
void validate_config_sizes(const ModelConfig& c, const std::string& source, uint64_t max_values,
                           const std::string& limit_what);
// The check for a config read with tensors, against twice the values they hold: a model built
// from the config then takes about the memory the file already did, and a file short of a
// tensor or two still reaches the loader's precise "missing tensor" error.
void validate_config_sizes_for_file(const ModelConfig& c, const std::string& source,
                                    uint64_t file_values);
// Weights a Transformer (which keeps a gradient beside each weight) can hold in this machine's
// physical memory: the limit for configs that come with no tensors (train --model, study specs).
uint64_t memory_weight_limit();

void to_json(nlohmann::json& j, const ModelConfig& c);
void from_json(const nlohmann::json& j, ModelConfig& c);  // unknown keys are an error

// Named presets: "tiny", "small", "gpt2-bench", "llama-tiny".
ModelConfig preset_config(const std::string& name);

std::string to_string(PosEncoding p);
std::string to_string(NormKind n);
std::string to_string(MlpKind m);
std::string to_string(RopeStyle r);

}  // namespace attnlab
