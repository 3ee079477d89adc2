#pragma once
// One TOML -> JSON conversion for every reader of TOML files (study specs, recipes), so a value
// means the same thing in both.
#include <toml++/toml.h>

#include <nlohmann/json.hpp>

namespace attnlab::exp {

// Strings, integers, floats, booleans, arrays and tables as their JSON counterparts; a date or time
// (which no spec uses) as null.
nlohmann::json toml_to_json(const toml::node& n);

}  // namespace attnlab::exp
