#pragma once
// Bigram-Backcopy (Guo et al. 2024, "Active-dormant attention heads", BBM/data.py): sequences
// that follow Tiny Shakespeare's character bigrams, except that after one of the k most frequent
// characters (the triggers) the previous character is copied. A 1-layer transformer learns it
// with an attention sink: non-trigger queries attend to BOS, trigger queries to t-1.
#include <string>

#include "datasets/task.h"
#include "datasets/text_corpus.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

struct BigramBackcopyConfig {
  int triggers = 3;       // k most frequent characters (3: ' ', 'e', 't')
  int len = 256;          // seq_length: inputs x_0..x_{len-1}, targets x_1..x_len
  double mix_p = 1.0;     // bbm_interpolate: after a trigger, copy with this probability
  std::string corpus;     // empty: Tiny Shakespeare's embedded statistics; else a text file
  int batch = 32;
  uint64_t seed = 0;
};

class BigramBackcopyTask : public SeededTask {
 public:
  explicit BigramBackcopyTask(const BigramBackcopyConfig& cfg);
  static TaskInfo info();
  static BigramBackcopyConfig config_from(const TaskParams& p);

  std::string name() const override { return "bigram_backcopy"; }
  // The corpus characters (65 for Tiny Shakespeare) + BOS + delimiter.
  int vocab_size() const override { return n_chars_ + 2; }
  std::string describe() const override;
  // "backcopy_accuracy": argmax == the token before the trigger, at trigger positions;
  // "accuracy": argmax == target over every position.
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                const Tensor& logits) const override;
  std::string token_text(int id) const override;
  bool text_tokens() const override { return true; }

  int bos_token() const override { return n_chars_; }
  int delimiter_token() const { return n_chars_ + 1; }
  const std::vector<int>& trigger_tokens() const { return triggers_; }  // most frequent last
  bool is_trigger(int id) const;
  // P(next | prev) over the corpus characters (row prev, sums to 1).
  const std::vector<double>& bigram_row(int prev) const { return bigram_[prev]; }

 protected:
  void generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                    SampleMeta& meta) override;

 private:
  BigramBackcopyConfig cfg_;
  int n_chars_ = 0;
  std::vector<uint32_t> chars_;           // code point of each id
  std::vector<double> first_weights_;     // unigram with triggers zeroed
  std::vector<std::vector<double>> bigram_;
  std::vector<int> triggers_;
  std::vector<char> trigger_flag_;
};

}  // namespace attnlab
