#pragma once
// Text <-> token ids. One interface for the tokenizers models come with (SentencePiece-style BPE
// from GGUF / llama2.c, Hugging Face byte-level BPE from tokenizer.json) and the trivial ones our
// own models are trained with (bytes, characters).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnlab {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::string kind() const = 0;  // "byte", "char", "sentencepiece-bpe", "byte-level-bpe"
  virtual int vocab_size() const = 0;

  // add_bos prepends bos_id() (an error when the tokenizer has none).
  virtual std::vector<int32_t> encode(const std::string& text, bool add_bos) const = 0;
  // The bytes one token stands for on its own (byte tokens <0xNN> give that byte).
  virtual std::string decode_token(int32_t id) const = 0;
  // Inverse of encode: control tokens (BOS/EOS) are dropped, and the leading space the encoder
  // adds is removed, so decode(encode(s, b)) == s.
  virtual std::string decode(const std::vector<int32_t>& ids) const;
  // The text a streaming printer shows for `id` after `prev` (llama2.c run.c semantics: the space
  // after BOS is stripped). decode() is the concatenation of these.
  virtual std::string decode_next(int32_t prev, int32_t id) const { return decode_token(id); }

  int bos_id() const { return bos_id_; }  // -1: none
  int eos_id() const { return eos_id_; }  // -1: none
  // "prepend" (Llama: sequences start with BOS) or "none" (GPT-2 / NeoX, our byte models).
  const std::string& bos_policy() const { return bos_policy_; }
  // encode() with BOS exactly when the model's policy asks for it.
  std::vector<int32_t> encode_for_model(const std::string& text) const {
    return encode(text, bos_policy_ == "prepend");
  }
  // Throws attnlab::Error naming the id when it is out of range.
  void check_id(int32_t id) const;

 protected:
  int bos_id_ = -1;
  int eos_id_ = -1;
  std::string bos_policy_ = "none";
};

// Bytes 0..255 are ids 0..255; no BOS.
std::unique_ptr<Tokenizer> make_byte_tokenizer();
// One id per distinct UTF-8 character in `alphabet` (ordered as given, duplicates are an error).
// Encoding a character outside it is an error naming the character.
std::unique_ptr<Tokenizer> make_char_tokenizer(const std::vector<std::string>& alphabet);
// The sorted distinct UTF-8 characters of `text`: the alphabet a char model is trained with.
std::vector<std::string> char_alphabet_of(const std::string& text);

// Splits UTF-8 into characters; invalid bytes come out one byte each.
std::vector<std::string> utf8_chars(const std::string& text);

}  // namespace attnlab
