#pragma once
// toml++ builds one table per part of a dotted key and recurses once per level when it destroys
// them; a key of 100,000 parts (a few hundred kilobytes of spec) overflows the stack. toml++ caps
// nested arrays and inline tables (256) but not dotted keys, so the text is checked first.
#include <string>

namespace attnlab::exp {

// Deeper than any study spec needs: [sweep] paths nest a handful of levels.
constexpr int kMaxTomlDepth = 64;

// Throws attnlab::Error "<file>:<line>: ..." where a value would sit more than kMaxTomlDepth
// levels deep, counting the [table] header's parts, the dotted key's parts and the inline tables
// and arrays around it. Strings and comments are skipped; everything else is left to toml++.
void check_toml_nesting(const std::string& text, const std::string& file);

}  // namespace attnlab::exp
