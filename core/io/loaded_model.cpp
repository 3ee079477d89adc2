#include "core/io/loaded_model.h"

namespace attnlab {

ModelConfig llama_family_config() {
  ModelConfig c;
  c.family = "llama";
  c.pos = PosEncoding::rope;
  c.rope_style = RopeStyle::interleaved;
  c.rope_theta = 10000.0f;
  c.rotary_pct = 1.0f;
  c.norm = NormKind::rmsnorm;
  c.norm_eps = 1e-5f;
  c.mlp = MlpKind::swiglu;
  c.bias = false;
  c.parallel_residual = false;
  c.attention = {"softmax"};
  c.bos_token = 1;
  c.bos_policy = "prepend";
  return c;
}

void tie_if_identical(LoadedModel& m) {
  auto head = m.weights.find("lm_head.weight");
  auto emb = m.weights.find("tok_emb.weight");
  if (head == m.weights.end() || emb == m.weights.end()) return;
  if (head->second.shape == emb->second.shape && head->second.data == emb->second.data) {
    m.weights.erase(head);
    m.config.tied_embeddings = true;
  }
}

}  // namespace attnlab
