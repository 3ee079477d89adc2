#pragma once
// Needle in a haystack for small models (REFERENCE 6.2 [eng]): a key -> value needle hidden at a
// chosen depth of a random-token or text haystack, and at the end a question naming the key
// whose answer is the value:
//   BOS  haystack[..depth]  <needle> key value  haystack[depth..]  <q> key value
// With distractors = N, N more needles with other keys (and values) sit at random places of the
// haystack: finding the one <needle> marker no longer answers the question, matching the key does.
// The answer (the final value tokens) is scored; metadata gives the needle span and its value
// span, which the retrieval score of Wu et al. counts copy-paste attention into.
#include <string>

#include "datasets/task.h"
#include "datasets/text_corpus.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

struct NeedleConfig {
  std::string haystack = "random";  // "random" tokens, or "text" from `corpus`
  int vocab = 64;       // random haystack: 0 BOS, 1 <needle>, 2 <q>, tokens from [3, vocab)
  std::string corpus = "corpora/tinyshakespeare/input.txt";  // text haystack (char level)
  int len = 256;
  // > 0: each sequence is a needle sample of a length drawn from [len_min, len], its row filled
  // up to len with unscored tokens, so that one model learns the task at every length (an
  // evaluation then uses fixed lengths: len_min = 0).
  int len_min = 0;
  int key_len = 2;
  int value_len = 4;
  double depth = -1;    // fraction of the haystack before the needle; < 0: uniform per sample
  bool mask_all = false;  // train on every position (else only the answer)
  int distractors = 0;    // needles with other keys, at random depths
  int batch = 16;
  uint64_t seed = 0;
};

class NeedleTask : public SeededTask {
 public:
  explicit NeedleTask(const NeedleConfig& cfg);
  static TaskInfo info();
  static NeedleConfig config_from(const TaskParams& p);

  std::string name() const override { return "needle"; }
  int vocab_size() const override { return vocab_; }
  std::string describe() const override;
  // "accuracy" per answer token and "exact_match" (the whole value right).
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                const Tensor& logits) const override;
  std::string token_text(int id) const override;
  bool text_tokens() const override { return text_; }

  int bos_token() const override { return bos_; }
  int needle_token() const { return needle_; }
  int question_token() const { return question_; }
  // Haystack tokens in a sample of length T (the row's length by default).
  int haystack_len(int T = -1) const {
    return (T < 0 ? T_ : T) + 1 - 1 - (2 + cfg_.distractors) * (1 + cfg_.key_len + cfg_.value_len);
  }

 protected:
  void generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                    SampleMeta& meta) override;

 private:
  NeedleConfig cfg_;
  bool text_ = false;
  int vocab_ = 0, bos_ = 0, needle_ = 1, question_ = 2;
  int first_plain_ = 3;            // random mode: haystack/key/value tokens from [3, vocab)
  CharVocab chars_;                // text mode
  std::vector<int32_t> corpus_;    // text mode, encoded
  std::vector<int32_t> key_alphabet_;  // text mode: ids of lowercase letters
};

}  // namespace attnlab
