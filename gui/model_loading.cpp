#include "gui/model_loading.h"

#include <filesystem>

#include "core/io/load_checkpoint.h"
#include "core/tensor/error.h"

namespace attnlab::gui {
namespace {

class TokenizerCodec : public TokenCodec {
 public:
  explicit TokenizerCodec(std::shared_ptr<Tokenizer> t) : tok_(std::move(t)) {}
  std::vector<int32_t> encode(const std::string& text) const override { return tok_->encode(text, false); }
  std::string piece(int32_t id) const override {
    if (id == tok_->bos_id()) return "<s>";
    if (id == tok_->eos_id()) return "</s>";
    return tok_->decode_token(id);
  }
  std::string describe() const override { return tok_->kind() + " tokenizer"; }

 private:
  std::shared_ptr<Tokenizer> tok_;
};

}  // namespace

OpenedModel open_model_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error("cannot open '" + path + "': no such file or folder");
  LoadedModel loaded;
  try {
    loaded = load_checkpoint(path);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw Error("cannot open '" + path + "': " + what);
  }
  OpenedModel out;
  out.path = path;
  out.model = std::make_shared<Transformer>(loaded.config);
  out.model->load_weights(loaded.weights);
  const ModelConfig& c = loaded.config;
  if (loaded.tokenizer) {
    out.codec = std::make_shared<TokenizerCodec>(loaded.tokenizer);
    if (loaded.tokenizer->bos_policy() == "prepend") out.bos = loaded.tokenizer->bos_id();
  } else {
    out.codec = c.vocab_size >= 256 ? make_byte_codec() : make_id_codec(c.vocab_size);
    if (c.bos_policy == "prepend") out.bos = c.bos_token;
  }
  out.summary = std::filesystem::path(path).filename().string() + " (" + loaded.format + "): " +
                c.family + ", " + std::to_string(c.n_layers) + " layers × " + std::to_string(c.n_heads) +
                " heads, d_model " + std::to_string(c.d_model) + ", context " + std::to_string(c.context) +
                ", " + std::to_string(out.model->num_params()) + " params, " + out.codec->describe();
  return out;
}

std::string model_file_filter() {
  return "Models (*.safetensors *.gguf *.bin config.json);;All files (*)";
}

}  // namespace attnlab::gui
