#pragma once
// A tokenizer rebuilt from the token texts our training runs store in a checkpoint
// ("attnlab.vocab": the text of every id, see experiments/training_vocab.h):
//  - 256 entries in the byte codec's display form (printable ASCII, "<0A>" otherwise): bytes;
//  - distinct single characters: a char tokenizer;
//  - anything else (synthetic task symbols): whitespace-separated symbols, each one a token.
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace attnlab {

std::unique_ptr<Tokenizer> make_vocab_tokenizer(const std::vector<std::string>& token_texts);

// Parses the "attnlab.vocab" JSON list; malformed JSON is an attnlab::Error.
std::unique_ptr<Tokenizer> vocab_tokenizer_from_json(const std::string& json_list);

}  // namespace attnlab
