#pragma once
// What a probe needs to know about the model's tokens, and the probe input sequences built from
// it: natural text from a corpus (tokenized with the model's tokenizer), uniform random tokens,
// one repeated token, and repeated random blocks (induction).
#include <cstdint>
#include <string>
#include <vector>

namespace attnlab {

class Tokenizer;
class Transformer;
struct ModelConfig;
class Rng;

struct VocabInfo {
  int vocab_size = 0;
  int bos = -1, eos = -1;
  std::string bos_policy = "none";  // the model's: "prepend" or "none"
  int first_plain = 0;              // random tokens are drawn from [first_plain, vocab_size)
  const Tokenizer* tokenizer = nullptr;  // needed for natural text and text needles

  // From a tokenizer (special ids <= max(bos, eos) are left out of random draws).
  static VocabInfo from_tokenizer(const Tokenizer& tok, int model_vocab);
  // Token-id models without a tokenizer (our task-trained ones): BOS from the config.
  static VocabInfo from_config(const ModelConfig& cfg);
  // What a loaded model offers: the tokenizer's ids where it has one, the config's BOS where the
  // tokenizer names none (a task-trained model's vocabulary has no BOS of its own).
  static VocabInfo for_model(const Tokenizer* tok, const ModelConfig& cfg);
};

// Resolves a BOS option ("model", "prepend", "none") to whether a BOS is prepended; throws
// when "prepend" is asked of a model without a BOS token or the option is unknown.
bool resolve_bos(const std::string& option, const VocabInfo& v);

// n sequences of exactly T tokens: with BOS first when `bos` is set, then text tokens from
// random line starts of `corpus` (a path, resolved under the shared data folder).
std::vector<std::vector<int32_t>> natural_sequences(const VocabInfo& v, const std::string& corpus,
                                                    int n, int T, bool bos, uint64_t seed);
// n sequences of T tokens of the model's own text: BOS when set (else one random plain token), then
// tokens sampled one at a time at temperature 1 from the model. The natural-text source for a
// model whose training corpus is unknown: in its own distribution, unlike an unrelated corpus.
std::vector<std::vector<int32_t>> model_text_sequences(Transformer& model, const VocabInfo& v, int n, int T,
                                                       bool bos, uint64_t seed);
// Uniform random tokens (BOS first when set).
std::vector<std::vector<int32_t>> random_sequences(const VocabInfo& v, int n, int T, bool bos,
                                                   uint64_t seed);
// One random token repeated T times (BOS first when set).
std::vector<std::vector<int32_t>> repeated_token_sequences(const VocabInfo& v, int n, int T,
                                                           bool bos, uint64_t seed);
// BOS (when set) then `block` random tokens drawn without replacement, repeated `repeats` times.
std::vector<std::vector<int32_t>> repeated_block_sequences(const VocabInfo& v, int n, int block,
                                                           int repeats, bool bos, uint64_t seed);

}  // namespace attnlab
