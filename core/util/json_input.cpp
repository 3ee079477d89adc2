#include "core/util/json_input.h"

namespace attnlab {

using nlohmann::json;

namespace {

// Called by nlohmann's parser for every event, with the number of enclosing containers; throwing
// from it stops the parse with the tree no deeper than the limit.
json::parser_callback_t depth_guard(const std::string& where) {
  return [where, key = std::string()](int depth, json::parse_event_t event, json& parsed) mutable {
    if (event == json::parse_event_t::key) key = parsed.get<std::string>();
    bool opens =
        event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth)
      throw Error(where + ": JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels" +
                  (key.empty() ? std::string() : " (under key '" + key + "')") + "; refusing it");
    return true;
  };
}

}  // namespace

json parse_json_bounded(const std::string& text, const std::string& where) {
  return json::parse(text, depth_guard(where));
}

json parse_json_bounded(std::istream& in, const std::string& where) {
  return json::parse(in, depth_guard(where));
}

namespace detail {

void json_wrong_type(const json& v, const std::string& key, const std::string& where,
                     const std::string& expected) {
  std::string shown = v.dump();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  throw Error(where + ": '" + key + "' has the wrong type (expected " + expected + "): " + shown);
}

bool json_integer_in(const json& v, long double lo, long double hi) {
  long double x;
  if (v.is_number_integer() && !v.is_number_unsigned())
    x = static_cast<long double>(v.get<int64_t>());
  else if (v.is_number_unsigned())
    x = static_cast<long double>(v.get<uint64_t>());
  else if (v.is_number_float())
    x = static_cast<long double>(v.get<double>());
  else
    return false;
  return std::isfinite(x) && x == std::trunc(x) && x >= lo && x <= hi;
}

}  // namespace detail

}  // namespace attnlab
