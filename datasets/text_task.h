#pragma once
// Language modelling on a text corpus: random windows of a token stream, with the last
// `val_fraction` of the stream held out as the validation split. Text is tokenized by bytes,
// by characters (nanoGPT char level), or by a tokenizer file through TextCodec.
#include <memory>
#include <string>

#include "core/tokenizer/tokenizer.h"
#include "datasets/task.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

// "byte" (vocab 256), "char" (the sorted characters of `text`, nanoGPT style), or a tokenizer
// file: a Hugging Face tokenizer.json (or a folder holding one) or a llama2.c tokenizer .bin.
std::unique_ptr<Tokenizer> make_text_tokenizer(const std::string& tokenizer,
                                               const std::string& text);

struct TextConfig {
  std::string file = "corpora/tinyshakespeare/input.txt";
  std::string tokenizer = "char";
  std::string split = "train";    // train | val
  double val_fraction = 0.1;      // the last 10% of the tokens are validation
  std::string gutenberg = "auto"; // strip the Gutenberg header/footer: auto (if present) | true | false
  int len = 256;
  int batch = 16;
  uint64_t seed = 0;
};

class TextTask : public Task {
 public:
  explicit TextTask(const TextConfig& cfg);
  static TaskInfo info();
  static TextConfig config_from(const TaskParams& p);

  std::string name() const override { return "text"; }
  int vocab_size() const override { return tokenizer_->vocab_size(); }
  int batch_size() const override { return cfg_.batch; }
  int seq_len() const override { return cfg_.len; }
  void next(Batch& batch) override;
  void seek(int64_t batch_index) override { index_ = batch_index; }
  std::string describe() const override;
  // "accuracy": next-token argmax accuracy over all positions.
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                const Tensor& logits) const override;
  std::string token_text(int id) const override;
  bool text_tokens() const override { return true; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

  int64_t split_tokens() const { return end_ - begin_; }
  const std::vector<int32_t>& stream() const { return tokens_; }  // both splits
  bool stripped_gutenberg() const { return stripped_; }

 private:
  TextConfig cfg_;
  std::shared_ptr<Tokenizer> tokenizer_;
  std::vector<int32_t> tokens_;
  int64_t begin_ = 0, end_ = 0;
  int64_t index_ = 0;
  bool stripped_ = false;
};

}  // namespace attnlab
