#include "core/io/hf_export.h"

#include <algorithm>
#include <array>
#include <tuple>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/io/atomic_write.h"
#include "core/io/safetensors.h"
#include "core/tensor/error.h"
#include "core/tokenizer/sentencepiece_bpe.h"
#include "core/tokenizer/unicode.h"

namespace attnlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const Tensor& need(const std::map<std::string, Tensor>& w, const std::string& name) {
  auto it = w.find(name);
  if (it == w.end()) throw Error("HF export: missing weight '" + name + "'");
  return it->second;
}

Tensor transpose2d(const Tensor& t) {
  Tensor out({t.dim(1), t.dim(0)});
  const int64_t R = t.dim(0), C = t.dim(1);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) out.data[c * R + r] = t.data[r * C + c];
  return out;
}

// Interleaved RoPE rows (pairs 2i, 2i+1) -> HF rotate-half rows (pairs i, i + rot/2), per head,
// within the first `rot` dims. Applied to the rows of a q or k weight (and bias).
Tensor to_half_rope(const Tensor& t, int heads, int head_dim, int rot) {
  Tensor out = t;
  const int64_t C = t.rank() == 2 ? t.dim(1) : 1;
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < rot / 2; ++i) {
        int64_t dst = int64_t(h) * head_dim + j * (rot / 2) + i, src = int64_t(h) * head_dim + 2 * i + j;
        std::copy(t.data.begin() + src * C, t.data.begin() + (src + 1) * C, out.data.begin() + dst * C);
      }
  return out;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw Error("HF export: " + what);
}

}  // namespace

namespace {

// A SentencePiece BPE vocabulary as the tokenizers library's Llama tokenizer.json: pieces with
// U+2581 for spaces, merges derived as its SentencePiece converter does (every split of a piece
// into two vocabulary pieces, ordered by the merged piece's score, best first), byte fallback,
// a Prepend + Replace normalizer and the matching decoder.
std::string sentencepiece_tokenizer_json(const SentencePieceVocab& v) {
  const std::string meta = "\xE2\x96\x81";
  auto escape = [&](const std::string& p) {
    std::string out;
    for (char c : p) out += c == ' ' ? meta : std::string(1, c);
    return out;
  };
  const int n = int(v.pieces.size());
  std::vector<std::string> pieces(static_cast<size_t>(n));
  json vocab = json::object();
  for (int i = 0; i < n; ++i) {
    pieces[size_t(i)] = v.types[size_t(i)] == PieceType::control && i == v.bos_id ? "<s>"
                        : v.types[size_t(i)] == PieceType::control && i == v.eos_id ? "</s>"
                                                                                  : escape(v.pieces[size_t(i)]);
    vocab[pieces[size_t(i)]] = i;
  }
  std::map<std::string, int> id_of;
  for (int i = 0; i < n; ++i)
    if (v.types[size_t(i)] == PieceType::normal || v.types[size_t(i)] == PieceType::user_defined) id_of.emplace(pieces[size_t(i)], i);
  struct Merge { float score; int left, right; int piece; };
  std::vector<Merge> merges;
  for (const auto& [piece, id] : id_of) {
    std::vector<Merge> local;
    for (size_t k = 1; k < piece.size(); ++k) {
      if ((static_cast<unsigned char>(piece[k]) & 0xC0) == 0x80) continue;  // not a character boundary
      auto l = id_of.find(piece.substr(0, k)), r = id_of.find(piece.substr(k));
      if (l != id_of.end() && r != id_of.end()) local.push_back({v.scores[size_t(id)], l->second, r->second, id});
    }
    std::sort(local.begin(), local.end(), [](const Merge& a, const Merge& b) { return std::tie(a.left, a.right) < std::tie(b.left, b.right); });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  json mj = json::array();
  for (const Merge& m : merges) mj.push_back(pieces[size_t(m.left)] + " " + pieces[size_t(m.right)]);
  json added = json::array();
  for (int i = 0; i < n; ++i)
    if (v.types[size_t(i)] == PieceType::control || v.types[size_t(i)] == PieceType::unknown)
      added.push_back({{"id", i}, {"content", pieces[size_t(i)]}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", true}});
  json post = nullptr;
  if (v.bos_id >= 0 && v.add_bos)
    post = {{"type", "TemplateProcessing"},
            {"single", {{{"SpecialToken", {{"id", pieces[size_t(v.bos_id)]}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"pair", {{{"SpecialToken", {{"id", pieces[size_t(v.bos_id)]}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                      {{"SpecialToken", {{"id", pieces[size_t(v.bos_id)]}, {"type_id", 1}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
            {"special_tokens", {{pieces[size_t(v.bos_id)], {{"id", pieces[size_t(v.bos_id)]}, {"ids", {v.bos_id}}, {"tokens", {pieces[size_t(v.bos_id)]}}}}}}};
  json normalizer = nullptr;
  if (v.add_dummy_prefix)
    normalizer = {{"type", "Sequence"}, {"normalizers", {{{"type", "Prepend"}, {"prepend", meta}},
                                                         {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", meta}}}}};
  else
    normalizer = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", meta}};
  json decoder = {{"type", "Sequence"}, {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", meta}}}, {"content", " "}},
                                                      {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                                      {{"type", "Strip"}, {"content", " "}, {"start", v.add_dummy_prefix ? 1 : 0}, {"stop", 0}}}}};
  json j = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
            {"normalizer", normalizer}, {"pre_tokenizer", nullptr}, {"post_processor", post}, {"decoder", decoder},
            {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", v.unk_id >= 0 ? json(pieces[size_t(v.unk_id)]) : json(nullptr)},
                       {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", true},
                       {"byte_fallback", true}, {"vocab", vocab}, {"merges", mj}}}};
  return j.dump(1);
}

}  // namespace

std::string hf_tokenizer_json(const Tokenizer& tok) {
  if (const SentencePieceVocab* sp = sentencepiece_vocab(tok)) return sentencepiece_tokenizer_json(*sp);
  json vocab = json::object();
  json pre = nullptr, decoder = nullptr;
  if (tok.kind() == "byte") {
    // ByteLevel without the split regex: each byte is one token, id = byte value.
    std::array<char32_t, 256> b2u{};
    std::array<bool, 256> direct{};
    for (int b = '!'; b <= '~'; ++b) direct[size_t(b)] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[size_t(b)] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[size_t(b)] = true;
    int n = 0;
    for (int b = 0; b < 256; ++b) b2u[size_t(b)] = direct[size_t(b)] ? char32_t(b) : char32_t(256 + n++);
    for (int b = 0; b < 256; ++b) {
      std::string s;
      unicode::append_utf8(s, b2u[size_t(b)]);
      vocab[s] = b;
    }
    pre = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
    decoder = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  } else if (tok.kind() == "char") {
    for (int id = 0; id < tok.vocab_size(); ++id) vocab[tok.decode_token(id)] = id;
  } else {
    return "";
  }
  json j = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", json::array()},
            {"normalizer", nullptr}, {"pre_tokenizer", pre}, {"post_processor", nullptr}, {"decoder", decoder},
            {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                       {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                       {"vocab", vocab}, {"merges", json::array()}}}};
  return j.dump(1);
}

HfExportResult export_hf_folder(const ModelConfig& c, const std::map<std::string, Tensor>& w, const Tokenizer* tok,
                                const std::string& dir) {
  c.validate();
  require(c.mlp != MlpKind::none, "attention-only models (mlp = none) have no Hugging Face architecture");
  for (int l = 0; l < c.n_layers; ++l)
    require(c.attention_for_layer(l) == "softmax",
            "layer " + std::to_string(l) + " uses attention '" + c.attention_for_layer(l) +
                "', which Hugging Face transformers cannot express (only softmax)");
  const int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, H = c.n_heads, Dh = c.head_dim(), KV = c.n_kv_heads * Dh;
  const int rot = c.rotary_dims();
  std::map<std::string, Tensor> out;
  json cfg;
  HfExportResult res;
  auto L = [&](int l) { return "layers." + std::to_string(l) + "."; };
  const bool gelu = c.mlp == MlpKind::gelu || c.mlp == MlpKind::gelu_tanh;
  const std::string act = c.mlp == MlpKind::gelu ? "gelu" : "gelu_new";

  if (c.pos == PosEncoding::learned) {
    require(c.norm == NormKind::layernorm && gelu && c.bias && !c.parallel_residual && c.n_kv_heads == c.n_heads,
            "learned positions export as gpt2, which needs LayerNorm, GELU, biases, sequential residual and no GQA");
    res.model_type = "gpt2";
    cfg = {{"model_type", "gpt2"}, {"architectures", {"GPT2LMHeadModel"}}, {"vocab_size", V}, {"n_positions", c.context},
           {"n_ctx", c.context}, {"n_embd", D}, {"n_layer", c.n_layers}, {"n_head", H}, {"n_inner", F},
           {"activation_function", act}, {"layer_norm_epsilon", c.norm_eps}, {"tie_word_embeddings", c.tied_embeddings},
           {"resid_pdrop", 0.0}, {"embd_pdrop", 0.0}, {"attn_pdrop", 0.0}, {"scale_attn_weights", true}};
    out["transformer.wte.weight"] = need(w, "tok_emb.weight");
    out["transformer.wpe.weight"] = need(w, "pos_emb.weight");
    for (int l = 0; l < c.n_layers; ++l) {
      std::string h = "transformer.h." + std::to_string(l) + ".", o = L(l);
      out[h + "ln_1.weight"] = need(w, o + "attn_norm.weight");
      out[h + "ln_1.bias"] = need(w, o + "attn_norm.bias");
      Tensor qkv({3 * D, D}), qkv_b({3 * D});
      const char* parts[] = {"attn.wq", "attn.wk", "attn.wv"};
      for (int j = 0; j < 3; ++j) {
        const Tensor& pw = need(w, o + parts[j] + ".weight");
        const Tensor& pb = need(w, o + parts[j] + ".bias");
        std::copy(pw.data.begin(), pw.data.end(), qkv.data.begin() + j * D * D);
        std::copy(pb.data.begin(), pb.data.end(), qkv_b.data.begin() + j * D);
      }
      out[h + "attn.c_attn.weight"] = transpose2d(qkv);  // Conv1D stores [in, out]
      out[h + "attn.c_attn.bias"] = qkv_b;
      out[h + "attn.c_proj.weight"] = transpose2d(need(w, o + "attn.wo.weight"));
      out[h + "attn.c_proj.bias"] = need(w, o + "attn.wo.bias");
      out[h + "ln_2.weight"] = need(w, o + "mlp_norm.weight");
      out[h + "ln_2.bias"] = need(w, o + "mlp_norm.bias");
      out[h + "mlp.c_fc.weight"] = transpose2d(need(w, o + "mlp.w1.weight"));
      out[h + "mlp.c_fc.bias"] = need(w, o + "mlp.w1.bias");
      out[h + "mlp.c_proj.weight"] = transpose2d(need(w, o + "mlp.w2.weight"));
      out[h + "mlp.c_proj.bias"] = need(w, o + "mlp.w2.bias");
    }
    out["transformer.ln_f.weight"] = need(w, "final_norm.weight");
    out["transformer.ln_f.bias"] = need(w, "final_norm.bias");
    if (!c.tied_embeddings) out["lm_head.weight"] = need(w, "lm_head.weight");
  } else if (c.pos == PosEncoding::rope && c.norm == NormKind::layernorm) {
    require(gelu && c.bias && c.n_kv_heads == c.n_heads,
            "RoPE with LayerNorm exports as gpt_neox, which needs GELU, biases and no GQA");
    res.model_type = "gpt_neox";
    cfg = {{"model_type", "gpt_neox"}, {"architectures", {"GPTNeoXForCausalLM"}}, {"vocab_size", V},
           {"max_position_embeddings", c.context}, {"hidden_size", D}, {"num_hidden_layers", c.n_layers},
           {"num_attention_heads", H}, {"intermediate_size", F}, {"rotary_pct", double(rot) / double(Dh)},
           {"rotary_emb_base", c.rope_theta}, {"rope_theta", c.rope_theta}, {"layer_norm_eps", c.norm_eps},
           {"hidden_act", act}, {"use_parallel_residual", c.parallel_residual}, {"tie_word_embeddings", c.tied_embeddings},
           {"attention_bias", true}, {"hidden_dropout", 0.0}, {"attention_dropout", 0.0}};
    out["gpt_neox.embed_in.weight"] = need(w, "tok_emb.weight");
    for (int l = 0; l < c.n_layers; ++l) {
      std::string h = "gpt_neox.layers." + std::to_string(l) + ".", o = L(l);
      out[h + "input_layernorm.weight"] = need(w, o + "attn_norm.weight");
      out[h + "input_layernorm.bias"] = need(w, o + "attn_norm.bias");
      out[h + "post_attention_layernorm.weight"] = need(w, o + "mlp_norm.weight");
      out[h + "post_attention_layernorm.bias"] = need(w, o + "mlp_norm.bias");
      Tensor qkv({3 * D, D}), qkv_b({3 * D});
      const char* parts[] = {"attn.wq", "attn.wk", "attn.wv"};
      for (int j = 0; j < 3; ++j) {
        Tensor pw = need(w, o + parts[j] + ".weight"), pb = need(w, o + parts[j] + ".bias");
        if (j < 2 && c.rope_style == RopeStyle::interleaved) {
          pw = to_half_rope(pw, int(H), int(Dh), rot);
          pb = to_half_rope(pb, int(H), int(Dh), rot);
        }
        for (int64_t hh = 0; hh < H; ++hh)
          for (int64_t d = 0; d < Dh; ++d) {
            int64_t dst = hh * 3 * Dh + j * Dh + d, src = hh * Dh + d;
            std::copy(pw.data.begin() + src * D, pw.data.begin() + (src + 1) * D, qkv.data.begin() + dst * D);
            qkv_b.data[size_t(dst)] = pb.data[size_t(src)];
          }
      }
      out[h + "attention.query_key_value.weight"] = qkv;
      out[h + "attention.query_key_value.bias"] = qkv_b;
      out[h + "attention.dense.weight"] = need(w, o + "attn.wo.weight");
      out[h + "attention.dense.bias"] = need(w, o + "attn.wo.bias");
      out[h + "mlp.dense_h_to_4h.weight"] = need(w, o + "mlp.w1.weight");
      out[h + "mlp.dense_h_to_4h.bias"] = need(w, o + "mlp.w1.bias");
      out[h + "mlp.dense_4h_to_h.weight"] = need(w, o + "mlp.w2.weight");
      out[h + "mlp.dense_4h_to_h.bias"] = need(w, o + "mlp.w2.bias");
    }
    out["gpt_neox.final_layer_norm.weight"] = need(w, "final_norm.weight");
    out["gpt_neox.final_layer_norm.bias"] = need(w, "final_norm.bias");
    out["embed_out.weight"] = c.tied_embeddings ? need(w, "tok_emb.weight") : need(w, "lm_head.weight");
  } else if (c.pos == PosEncoding::rope) {
    require(c.norm == NormKind::rmsnorm && c.mlp == MlpKind::swiglu && !c.parallel_residual && rot == Dh,
            "RoPE with RMSNorm exports as llama, which needs SwiGLU, sequential residual and full rotary dims");
    res.model_type = "llama";
    cfg = {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"vocab_size", V},
           {"max_position_embeddings", c.context}, {"hidden_size", D}, {"num_hidden_layers", c.n_layers},
           {"num_attention_heads", H}, {"num_key_value_heads", c.n_kv_heads}, {"intermediate_size", F},
           {"rms_norm_eps", c.norm_eps}, {"rope_theta", c.rope_theta}, {"hidden_act", "silu"},
           {"tie_word_embeddings", c.tied_embeddings}, {"attention_bias", c.bias}, {"mlp_bias", c.bias},
           {"rope_scaling", nullptr}, {"head_dim", Dh}};
    out["model.embed_tokens.weight"] = need(w, "tok_emb.weight");
    const std::pair<const char*, const char*> lin[] = {{"attn.wq", "self_attn.q_proj"}, {"attn.wk", "self_attn.k_proj"},
                                                       {"attn.wv", "self_attn.v_proj"}, {"attn.wo", "self_attn.o_proj"},
                                                       {"mlp.w1", "mlp.gate_proj"},    {"mlp.w3", "mlp.up_proj"},
                                                       {"mlp.w2", "mlp.down_proj"}};
    for (int l = 0; l < c.n_layers; ++l) {
      std::string h = "model.layers." + std::to_string(l) + ".", o = L(l);
      out[h + "input_layernorm.weight"] = need(w, o + "attn_norm.weight");
      out[h + "post_attention_layernorm.weight"] = need(w, o + "mlp_norm.weight");
      for (const auto& [ours, theirs] : lin) {
        std::string on = ours;
        int heads = on == "attn.wq" ? int(H) : on == "attn.wk" ? c.n_kv_heads : 0;
        auto convert = [&](const Tensor& t) {
          return heads && c.rope_style == RopeStyle::interleaved ? to_half_rope(t, heads, int(Dh), rot) : t;
        };
        out[h + theirs + ".weight"] = convert(need(w, o + ours + ".weight"));
        if (c.bias) out[h + theirs + ".bias"] = convert(need(w, o + ours + ".bias"));
      }
    }
    out["model.norm.weight"] = need(w, "final_norm.weight");
    if (!c.tied_embeddings) out["lm_head.weight"] = need(w, "lm_head.weight");
  } else {
    throw Error("HF export: position encoding '" + to_string(c.pos) + "' has no Hugging Face model type here (learned or rope)");
  }
  (void)KV;
  if (c.bos_token >= 0) cfg["bos_token_id"] = c.bos_token;
  cfg["torch_dtype"] = "float32";
  cfg["attnlab_family"] = c.family;

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("HF export: cannot create folder " + dir + ": " + ec.message());
  write_safetensors((fs::path(dir) / "model.safetensors").string(), out, {{"format", "pt"}});
  std::string cfg_text = cfg.dump(1);
  write_file_atomic((fs::path(dir) / "config.json").string(), [&](std::ostream& os) { os << cfg_text << "\n"; });
  if (tok) {
    std::string tj = hf_tokenizer_json(*tok);
    if (!tj.empty()) {
      write_file_atomic((fs::path(dir) / "tokenizer.json").string(), [&](std::ostream& os) { os << tj << "\n"; });
      res.tokenizer_written = true;
      if (const SentencePieceVocab* sp = sentencepiece_vocab(*tok)) {
        json tc = {{"tokenizer_class", "LlamaTokenizerFast"}, {"add_bos_token", tok->bos_policy() == "prepend"},
                   {"add_eos_token", false}, {"model_max_length", c.context}};
        if (sp->bos_id >= 0) tc["bos_token"] = "<s>";
        if (sp->eos_id >= 0) tc["eos_token"] = "</s>";
        if (sp->unk_id >= 0) tc["unk_token"] = sp->pieces[size_t(sp->unk_id)];
        std::string text = tc.dump(1);
        write_file_atomic((fs::path(dir) / "tokenizer_config.json").string(), [&](std::ostream& os) { os << text << "\n"; });
      }
    } else {
      res.tokenizer_note = "a " + tok->kind() + " tokenizer has no exact tokenizer.json form here; none written";
    }
  }
  return res;
}

}  // namespace attnlab
