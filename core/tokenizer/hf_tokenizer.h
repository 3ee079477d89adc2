#pragma once
// Hugging Face tokenizer.json with a BPE model, in the two shapes checkpoints ship:
//  - byte-level (GPT-2, GPT-NeoX/Pythia, Qwen2): optional NFC, the GPT-2 split pattern
//    ('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, matched by hand
//    because std::regex has no Unicode classes), bytes mapped to printable code points, then
//    merges by rank;
//  - metaspace (Llama/TinyLlama/SmolLM-style converted SentencePiece): spaces become U+2581, a
//    U+2581 is prepended, merges by rank over characters, unknown characters fall back to <0xNN>.
// Added tokens (specials like <|endoftext|>, and NeoX's runs of spaces) are split out first,
// leftmost-longest, as the tokenizers library does. The BOS policy comes from post_processor:
// a TemplateProcessing whose single-sequence template starts with a special token prepends it.
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace attnlab {

// `path` is a tokenizer.json file or a folder holding one.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path);

// The GPT-2 pre-tokenizer split (before the byte-to-unicode mapping); exposed for tests.
std::vector<std::string> gpt2_pretokenize(const std::string& text);

}  // namespace attnlab
