#pragma once
// The keys a spec may set and the kind of value each takes. The model's keys come from
// ModelConfig's own JSON form, so a field added to ModelConfig is accepted here with no edit.
#include <nlohmann/json.hpp>
#include <string>

#include "core/train/trainer.h"

namespace attnlab::exp {

enum class FieldKind { unknown, integer, number, string, boolean, string_list, any, table };

// Kind of the value at a dotted path ("model.d_model", "train.lr", "task.params.n_pairs").
FieldKind field_kind(const std::string& path);
std::string kind_name(FieldKind k);
// " (known: a, b, c)" for the section `path` is in.
std::string known_keys_hint(const std::string& path);

// TrainConfig <-> JSON (the [train] section). Unknown keys are an error.
nlohmann::json train_to_json(const TrainConfig& c);
TrainConfig train_from_json(const nlohmann::json& j);

// [probes] defaults: every = 0 (only at the end), names = [], attention_maps = true, ...
nlohmann::json default_probes_json();

}  // namespace attnlab::exp
