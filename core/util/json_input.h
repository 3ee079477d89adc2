#pragma once
// JSON read from files: checkpoint metadata, config.json, tokenizer.json, safetensors headers,
// the run store. A hostile file can nest arrays thousands deep, and copying, dumping or comparing
// such a tree recurses once per level until the stack overflows; so nesting is refused while
// parsing, before a deep tree exists. Typed reads name the file and key when a value has the
// wrong type, where nlohmann's own type_error names neither.
#include <cmath>
#include <istream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "core/tensor/error.h"

namespace attnlab {

// Far deeper than any real config or tokenizer (they nest a handful of levels).
constexpr int kMaxJsonDepth = 64;

// nlohmann::json::parse, except that nesting deeper than kMaxJsonDepth throws attnlab::Error
// naming `where` and the key it happened under. Syntax errors still throw json::parse_error,
// so callers keep their own "not valid JSON" messages.
nlohmann::json parse_json_bounded(const std::string& text, const std::string& where);
nlohmann::json parse_json_bounded(std::istream& in, const std::string& where);

namespace detail {
[[noreturn]] void json_wrong_type(const nlohmann::json& v, const std::string& key,
                                  const std::string& where, const std::string& expected);
// True when v is a number with an integral value in [lo, hi] (1e6 counts; 1.5 does not).
bool json_integer_in(const nlohmann::json& v, long double lo, long double hi);
}  // namespace detail

// v.get<T>(), except that a value of the wrong type, or an integer out of T's range (which
// nlohmann would silently truncate), throws attnlab::Error "<where>: '<key>' has the wrong type".
template <class T>
T json_get(const nlohmann::json& v, const std::string& key, const std::string& where) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) detail::json_wrong_type(v, key, where, "a boolean");
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    using L = std::numeric_limits<T>;
    if (!detail::json_integer_in(v, static_cast<long double>(L::min()),
                                 static_cast<long double>(L::max())))
      detail::json_wrong_type(
          v, key, where,
          "an integer in [" + std::to_string(L::min()) + ", " + std::to_string(L::max()) + "]");
    return v.is_number_float() ? static_cast<T>(v.get<double>()) : v.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) detail::json_wrong_type(v, key, where, "a number");
    return v.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) detail::json_wrong_type(v, key, where, "a string");
    return v.get<std::string>();
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>, "json_get: unsupported type");
    bool ok = v.is_array();
    for (size_t i = 0; ok && i < v.size(); ++i) ok = v[i].is_string();
    if (!ok) detail::json_wrong_type(v, key, where, "a list of strings");
    return v.get<T>();
  }
}

}  // namespace attnlab
