// Architecture parity on random weights saved in the Hugging Face naming and layout
// (tests/oracle/hf_arch_ref.py): GPT-2 (Conv1D transposes, fused c_attn), GPT-NeoX (per-head
// fused query_key_value, partial rotary, parallel and sequential residual), Llama with GQA
// (HF's rotate-half q/k order) and Qwen2 (q/k/v biases), with F32, F16 and BF16 files. Logits and every head's attention
// must match the PyTorch reimplementation within 1e-4.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "core/io/hf_model.h"
#include "core/io/safetensors.h"
#include "core/model/transformer.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

// Keeps every head's attention rows of the last forward: [L][H][t][j].
struct AttentionRecorder : ForwardObserver {
  std::vector<std::vector<std::vector<std::vector<float>>>> rows;
  void on_attention(const LayerAttentionView& view) override {
    const AttnShape& s = view.inputs->shape;
    if (int(rows.size()) <= view.layer) rows.resize(size_t(view.layer) + 1);
    auto& layer = rows[size_t(view.layer)];
    layer.assign(size_t(s.H), std::vector<std::vector<float>>(size_t(s.T)));
    for (int h = 0; h < s.H; ++h)
      view.attention->pattern(*view.inputs, 0, h, [&](int t, const float* row) {
        layer[size_t(h)][size_t(t)].assign(row, row + t + 1);
      });
  }
};

const std::vector<std::string> kVariants = {"gpt2", "gpt_neox:F16", "gpt_neox_seq", "llama:BF16", "qwen2"};

// Makes every variant's folder and reference in one oracle process (importing torch is the cost).
const std::filesystem::path& variant_dir(const std::string& variant) {
  static std::map<std::string, std::filesystem::path> dirs = [] {
    std::map<std::string, std::filesystem::path> d;
    std::string args = "make";
    for (const std::string& v : kVariants) {
      d[v] = test::temp_dir("hf_" + v.substr(0, v.find(':')));
      args += " " + v + " " + d[v].string();
    }
    test::run_oracle("hf_arch_ref.py", args);
    return d;
  }();
  return dirs.at(variant);
}

}  // namespace

TEST_CASE("HF checkpoints match a PyTorch reimplementation (logits and attention)", "[io][hf][oracle]") {
  // ":F16" / ":BF16" store the weights in that dtype (the reference uses the stored values).
  for (const std::string& variant : kVariants) {
    DYNAMIC_SECTION(variant) {
      const std::string family = variant.substr(0, variant.find(':'));
      const auto& dir = variant_dir(variant);
      LoadedModel m = load_hf_folder(dir.string());
      SafetensorsFile ref = read_safetensors((dir / "ref.safetensors").string());
      const Tensor& tok_f = ref.tensors.at("tokens");
      const Tensor& want_logits = ref.tensors.at("logits");
      const Tensor& want_attn = ref.tensors.at("attn");  // [L, H, T, T]
      std::vector<int32_t> tokens;
      for (float f : tok_f.data) tokens.push_back(int32_t(f));
      const int T = int(tokens.size());

      if (family == "gpt2") {
        CHECK(m.config.pos == PosEncoding::learned);
        CHECK(m.config.tied_embeddings);
        CHECK(m.config.bos_policy == "none");
      } else if (family.rfind("gpt_neox", 0) == 0) {
        CHECK(m.config.rope_style == RopeStyle::half);
        CHECK(m.config.rotary_dims() == 4);
        CHECK(m.config.parallel_residual == (family == "gpt_neox"));
      } else {
        CHECK(m.config.n_kv_heads * 2 == m.config.n_heads);
        CHECK(m.config.rope_style == RopeStyle::half);
        CHECK(m.config.bias == (family == "qwen2"));
      }

      Transformer model(m.config);
      model.load_weights(m.weights);
      AttentionRecorder rec;
      model.add_observer(&rec);
      const Tensor& logits = model.forward(tokens.data(), 1, T);
      REQUIRE(logits.numel() == want_logits.numel());
      double max_logit_err = 0;
      for (int64_t i = 0; i < logits.numel(); ++i)
        max_logit_err = std::max(max_logit_err, double(std::fabs(logits.data[size_t(i)] - want_logits.data[size_t(i)])));
      const int L = int(want_attn.dim(0)), H = int(want_attn.dim(1));
      REQUIRE(int(rec.rows.size()) == L);
      double max_attn_err = 0;
      for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h)
          for (int t = 0; t < T; ++t)
            for (int j = 0; j < T; ++j) {
              float want = want_attn.data[((size_t(l) * H + h) * T + t) * T + j];
              float got = j <= t ? rec.rows[size_t(l)][size_t(h)][size_t(t)][size_t(j)] : 0.0f;
              max_attn_err = std::max(max_attn_err, double(std::fabs(got - want)));
            }
      INFO(variant << ": max |logit err| = " << max_logit_err << ", max |attn err| = " << max_attn_err);
      CHECK(max_logit_err < 1e-4);
      CHECK(max_attn_err < 1e-4);
      model.remove_observer(&rec);
    }
  }
}
