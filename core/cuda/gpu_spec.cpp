#include "core/cuda/gpu_spec.h"

#include "core/attention/spec.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

GpuAttentionSpec gpu_attention_spec(const std::string& spec) {
  GpuAttentionSpec out;
  bool window_seen = false, first = true;
  for (const SpecTerm& term : parse_spec(spec)) {
    SpecArgs args("attention '" + spec + "'", term.args);
    // The variant comes first and only masks follow it (make_attention): "window(..)+softmax"
    // or "softmax+softmax" are errors on the CPU and must not run here as softmax.
    if ((term.name == "softmax" || term.name == "alibi") && first) {
      out.alibi = term.name == "alibi";
      args.finish();
    } else if (term.name == "window" && !window_seen) {
      out.window = args.require_int("size", 1, 1 << 30);
      out.sinks = args.get_int("sinks", 0, 0, 1 << 30);
      args.finish();
      window_seen = true;
    } else {
      throw Error("no fused CUDA kernel for attention '" + spec + "' (term '" + term.name +
                  "'): the kernels run softmax or alibi with an optional window(size, sinks)");
    }
    first = false;
  }
  return out;
}

std::vector<std::string> required_weight_names(const ModelConfig& cfg) {
  std::vector<std::string> names = {"tok_emb.weight", "final_norm.weight"};
  if (cfg.pos == PosEncoding::learned) names.push_back("pos_emb.weight");
  if (!cfg.tied_embeddings) names.push_back("lm_head.weight");
  for (int l = 0; l < cfg.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    for (const char* n : {"attn_norm.weight", "attn.wq.weight", "attn.wk.weight", "attn.wv.weight", "attn.wo.weight",
                          "mlp_norm.weight", "mlp.w1.weight", "mlp.w2.weight"})
      names.push_back(p + n);
    if (cfg.mlp == MlpKind::swiglu) names.push_back(p + "mlp.w3.weight");
  }
  return names;
}

std::vector<std::string> known_weight_names(const ModelConfig& cfg) {
  std::vector<std::string> names = required_weight_names(cfg);
  // Exactly the biases the CPU Transformer has: LayerNorm's shift, and the linear layers' when
  // cfg.bias is set.
  std::vector<std::string> per_layer;
  if (cfg.norm == NormKind::layernorm) {
    names.push_back("final_norm.bias");
    per_layer = {"attn_norm.bias", "mlp_norm.bias"};
  }
  if (cfg.bias) {
    for (const char* n : {"attn.wq.bias", "attn.wk.bias", "attn.wv.bias", "attn.wo.bias", "mlp.w1.bias", "mlp.w2.bias"})
      per_layer.push_back(n);
    if (cfg.mlp == MlpKind::swiglu) per_layer.push_back("mlp.w3.bias");
  }
  for (int l = 0; l < cfg.n_layers; ++l)
    for (const std::string& n : per_layer) names.push_back("layers." + std::to_string(l) + "." + n);
  return names;
}

}  // namespace attnlab::cuda
