#include "datasets/text_task.h"

#include <memory>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/sentencepiece_bpe.h"
#include "datasets/task_registry.h"
#include "datasets/text_corpus.h"

namespace attnlab {

std::unique_ptr<Tokenizer> make_text_tokenizer(const std::string& tokenizer,
                                               const std::string& text) {
  if (tokenizer == "byte") return make_byte_tokenizer();
  if (tokenizer == "char") return make_char_tokenizer(char_alphabet_of(text));
  std::string path;
  try {
    path = resolve_data_path(tokenizer);
  } catch (const Error& e) {
    throw Error("text: tokenizer '" + tokenizer +
                "' is neither byte, char nor a tokenizer file: " + e.what());
  }
  if (path.size() >= 4 && path.substr(path.size() - 4) == ".bin") return load_llama2c_tokenizer(path);
  return load_hf_tokenizer(path);  // tokenizer.json or a folder holding one
}

TextTask::TextTask(const TextConfig& cfg) : cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("text: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.len < 1) fail("len must be >= 1");
  if (cfg.split != "train" && cfg.split != "val")
    fail("split='" + cfg.split + "' (expected train or val)");
  if (cfg.gutenberg != "auto" && cfg.gutenberg != "true" && cfg.gutenberg != "false")
    fail("gutenberg='" + cfg.gutenberg + "' (expected auto, true or false)");
  std::string text = read_text_file(cfg.file);
  if (cfg.gutenberg != "false") {
    stripped_ = strip_gutenberg(text);
    if (!stripped_ && cfg.gutenberg == "true")
      fail("'" + cfg.file + "' has no '*** START OF' Project Gutenberg marker");
  }
  tokenizer_ = make_text_tokenizer(cfg.tokenizer, text);
  tokens_ = tokenizer_->encode(text, false);
  SplitRange r = split_range(int64_t(tokens_.size()), cfg.val_fraction, cfg.split == "val");
  begin_ = r.begin;
  end_ = r.end;
  if (end_ - begin_ < cfg.len + 1)
    fail("the " + cfg.split + " split of '" + cfg.file + "' has " +
         std::to_string(end_ - begin_) + " tokens, fewer than len + 1 = " +
         std::to_string(cfg.len + 1));
}

void TextTask::next(Batch& batch) {
  Rng rng(batch_seed(cfg_.seed, index_++));
  const int B = cfg_.batch, T = cfg_.len;
  batch.resize(B, T);
  batch.in_dim = 0;
  batch.features.clear();
  batch.float_targets.clear();
  meta_.assign(B, SampleMeta{});
  for (int b = 0; b < B; ++b) {
    const int64_t off = begin_ + rng.below(end_ - begin_ - T);
    for (int t = 0; t < T; ++t) {
      batch.tokens[size_t(b) * T + t] = tokens_[off + t];
      batch.targets[size_t(b) * T + t] = tokens_[off + t + 1];
    }
  }
}

std::vector<TaskMetric> TextTask::score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                        const Tensor& logits) const {
  const int V = vocab_size();
  check_logits(batch, logits, V, "text");
  TaskMetric m{"accuracy", 0, 0};
  double ok = 0;
  for (int64_t i = 0; i < int64_t(batch.B) * batch.T; ++i) {
    if (batch.mask[i] <= 0) continue;
    const float* row = logits.ptr() + i * V;
    int best = 0;
    for (int v = 1; v < V; ++v)
      if (row[v] > row[best]) best = v;
    ok += best == batch.targets[i];
    ++m.count;
  }
  m.value = m.count ? ok / double(m.count) : 0;
  return {m};
}

std::string TextTask::token_text(int id) const {
  if (id < 0 || id >= vocab_size()) return "<" + std::to_string(id) + "?>";
  return tokenizer_->decode_token(id);
}

std::string TextTask::describe() const {
  return "text(file=" + cfg_.file + ",tokenizer=" + cfg_.tokenizer + ",split=" + cfg_.split +
         ",val_fraction=" + format_number(cfg_.val_fraction) + ",gutenberg=" + cfg_.gutenberg +
         ",len=" + std::to_string(cfg_.len) + ",batch=" + std::to_string(cfg_.batch) +
         ",seed=" + std::to_string(cfg_.seed) + ")";
}

TextConfig TextTask::config_from(const TaskParams& p) {
  TextConfig c;
  c.file = p.str("file");
  c.tokenizer = p.str("tokenizer");
  c.split = p.str("split");
  c.val_fraction = p.real("val_fraction");
  c.gutenberg = p.str("gutenberg");
  c.len = int(p.integer("len"));
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo TextTask::info() {
  const TextConfig d;
  return TaskInfo{
      "text",
      "language modelling on a text file: random windows of its byte/char/tokenizer stream; "
      "the last val_fraction is the validation split",
      {
          {"file", d.file, "text file (relative paths are also looked up in the shared folder)"},
          {"tokenizer", d.tokenizer, "byte | char | a tokenizer file"},
          {"split", d.split, "train | val"},
          {"val_fraction", format_number(d.val_fraction), "held-out fraction at the end"},
          {"gutenberg", d.gutenberg, "strip the Project Gutenberg header/footer: auto | true | false"},
          {"len", std::to_string(d.len), "sequence length"},
          {"batch", std::to_string(d.batch), "sequences per batch"},
          {"seed", std::to_string(d.seed), "random seed"},
      },
      [](const TaskParams& p) -> std::unique_ptr<Task> {
        return std::make_unique<TextTask>(config_from(p));
      }};
}

}  // namespace attnlab
