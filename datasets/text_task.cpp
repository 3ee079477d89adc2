#include "datasets/text_task.h"

#include <memory>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/task_registry.h"
#include "datasets/text_corpus.h"

namespace attnlab {

TextCodec make_text_codec(const std::string& tokenizer, const std::string& text) {
  TextCodec c;
  c.name = tokenizer;
  if (tokenizer == "byte") {
    c.vocab = 256;
    c.encode = [](const std::string& s) {
      std::vector<int32_t> ids(s.size());
      for (size_t i = 0; i < s.size(); ++i) ids[i] = (unsigned char)s[i];
      return ids;
    };
    c.token_text = [](int id) {
      if (id < 0 || id > 255) return std::string("<?>");
      if (id >= 32 && id < 127) return std::string(1, char(id));
      char buf[8];
      std::snprintf(buf, sizeof buf, "<%02X>", id);
      return std::string(buf);
    };
    return c;
  }
  if (tokenizer == "char") {
    auto vocab = std::make_shared<CharVocab>(text);
    c.vocab = vocab->size();
    c.encode = [vocab](const std::string& s) { return vocab->encode(s); };
    c.token_text = [vocab](int id) {
      return id >= 0 && id < vocab->size() ? vocab->char_text(id) : std::string("<?>");
    };
    return c;
  }
  throw Error("text: tokenizer '" + tokenizer +
              "' is not available (use byte or char; tokenizer files arrive with core/tokenizer)");
}

TextTask::TextTask(const TextConfig& cfg) : cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("text: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.len < 1) fail("len must be >= 1");
  if (cfg.split != "train" && cfg.split != "val")
    fail("split='" + cfg.split + "' (expected train or val)");
  if (cfg.gutenberg != "auto" && cfg.gutenberg != "true" && cfg.gutenberg != "false")
    fail("gutenberg='" + cfg.gutenberg + "' (expected auto, true or false)");
  std::string text = read_text_file(cfg.path);
  if (cfg.gutenberg != "false") {
    stripped_ = strip_gutenberg(text);
    if (!stripped_ && cfg.gutenberg == "true")
      fail("'" + cfg.path + "' has no '*** START OF' Project Gutenberg marker");
  }
  codec_ = make_text_codec(cfg.tokenizer, text);
  tokens_ = codec_.encode(text);
  SplitRange r = split_range(int64_t(tokens_.size()), cfg.val_fraction, cfg.split == "val");
  begin_ = r.begin;
  end_ = r.end;
  if (end_ - begin_ < cfg.len + 1)
    fail("the " + cfg.split + " split of '" + cfg.path + "' has " +
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
  check_logits(batch, logits, codec_.vocab, "text");
  const int V = codec_.vocab;
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

std::string TextTask::describe() const {
  return "text(path=" + cfg_.path + ",tokenizer=" + cfg_.tokenizer + ",split=" + cfg_.split +
         ",val_fraction=" + format_number(cfg_.val_fraction) + ",gutenberg=" + cfg_.gutenberg +
         ",len=" + std::to_string(cfg_.len) + ",batch=" + std::to_string(cfg_.batch) +
         ",seed=" + std::to_string(cfg_.seed) + ")";
}

TextConfig TextTask::config_from(const TaskParams& p) {
  TextConfig c;
  c.path = p.str("path");
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
          {"path", d.path, "text file (relative paths are also looked up in the shared folder)"},
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
