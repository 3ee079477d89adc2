#pragma once
// SentencePiece-style BPE as Llama models use it (llama2.c run.c, llama.cpp's SPM tokenizer):
// a dummy-prefix space, one symbol per UTF-8 character, then repeatedly merge the adjacent pair
// whose concatenation is a vocabulary piece with the highest score (leftmost on ties); characters
// not in the vocabulary fall back to byte tokens <0xNN>.
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace attnlab {

struct GgufFile;

// Token kinds, numbered as GGUF's tokenizer.ggml.token_type.
enum class PieceType { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

struct SentencePieceVocab {
  std::vector<std::string> pieces;  // spaces as ' ' (not U+2581)
  std::vector<float> scores;
  std::vector<PieceType> types;
  int bos_id = -1, eos_id = -1, unk_id = -1;
  bool add_dummy_prefix = true;
  bool add_bos = true;  // the model expects sequences to start with BOS
};

std::unique_ptr<Tokenizer> make_sentencepiece_bpe(SentencePieceVocab vocab);

// The vocabulary behind a SentencePiece tokenizer (for exporting it); nullptr for other kinds.
const SentencePieceVocab* sentencepiece_vocab(const Tokenizer& tokenizer);

// llama2.c tokenizer .bin: int32 max_token_length, then per token {float score, int32 len, bytes}.
// BOS = 1, EOS = 2 as run.c hard-codes.
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path);

// tokenizer.ggml.* metadata with tokenizer.ggml.model == "llama".
std::unique_ptr<Tokenizer> sentencepiece_from_gguf(const GgufFile& file);

}  // namespace attnlab
