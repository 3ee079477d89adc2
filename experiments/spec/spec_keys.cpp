#include "experiments/spec/spec_keys.h"

#include "core/model/config.h"
#include "core/tensor/error.h"
#include "experiments/spec/spec.h"

namespace attnlab::exp {

namespace {

FieldKind kind_of_default(const nlohmann::json& v) {
  if (v.is_boolean()) return FieldKind::boolean;
  if (v.is_number_integer() || v.is_number_unsigned()) return FieldKind::integer;
  if (v.is_number_float()) return FieldKind::number;
  if (v.is_string()) return FieldKind::string;
  if (v.is_array()) return FieldKind::string_list;
  return FieldKind::any;
}

const nlohmann::json& model_defaults() {
  static const nlohmann::json j = [] {
    nlohmann::json out;
    to_json(out, ModelConfig{});
    return out;
  }();
  return j;
}

std::string join_keys(const nlohmann::json& obj, const std::string& extra = "") {
  std::string s;
  for (auto it = obj.begin(); it != obj.end(); ++it) s += (s.empty() ? "" : ", ") + it.key();
  if (!extra.empty()) s += ", " + extra;
  return s;
}

}  // namespace

nlohmann::json train_to_json(const TrainConfig& c) {
  return {{"steps", c.steps},           {"batch_size", c.batch_size},
          {"seq_len", c.seq_len},       {"lr", c.lr},
          {"min_lr_ratio", c.min_lr_ratio}, {"warmup", c.warmup},
          {"weight_decay", c.weight_decay}, {"beta1", c.beta1},
          {"beta2", c.beta2},           {"eps", c.eps},
          {"grad_clip", c.grad_clip},   {"eval_every", c.eval_every},
          {"eval_batches", c.eval_batches}, {"checkpoint_every", c.checkpoint_every}};
}

TrainConfig train_from_json(const nlohmann::json& j) {
  TrainConfig c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    if (k == "steps") c.steps = v.get<int64_t>();
    else if (k == "batch_size") c.batch_size = v.get<int>();
    else if (k == "seq_len") c.seq_len = v.get<int>();
    else if (k == "lr") c.lr = v.get<float>();
    else if (k == "min_lr_ratio") c.min_lr_ratio = v.get<float>();
    else if (k == "warmup") c.warmup = v.get<int64_t>();
    else if (k == "weight_decay") c.weight_decay = v.get<float>();
    else if (k == "beta1") c.beta1 = v.get<float>();
    else if (k == "beta2") c.beta2 = v.get<float>();
    else if (k == "eps") c.eps = v.get<float>();
    else if (k == "grad_clip") c.grad_clip = v.get<float>();
    else if (k == "eval_every") c.eval_every = v.get<int64_t>();
    else if (k == "eval_batches") c.eval_batches = v.get<int>();
    else if (k == "checkpoint_every") c.checkpoint_every = v.get<int64_t>();
    else throw Error("unknown training key '" + k + "' (known: " + join_keys(train_to_json(TrainConfig{})) + ")");
  }
  if (c.steps < 1) throw Error("train.steps must be >= 1");
  if (c.batch_size < 1) throw Error("train.batch_size must be >= 1");
  if (!(c.lr > 0)) throw Error("train.lr must be > 0");
  return c;
}

nlohmann::json default_train_json() { return train_to_json(TrainConfig{}); }

nlohmann::json default_probes_json() {
  return {{"every", 0}, {"names", nlohmann::json::array()}, {"attention_maps", true},
          {"map_len", 32}, {"params", nlohmann::json::object()}};
}

FieldKind field_kind(const std::string& path) {
  auto dot = path.find('.');
  if (dot == std::string::npos) return FieldKind::unknown;
  std::string section = path.substr(0, dot), key = path.substr(dot + 1);
  if (section == "model") {
    if (key == "preset") return FieldKind::string;
    const nlohmann::json& d = model_defaults();
    if (!d.contains(key)) return FieldKind::unknown;
    return kind_of_default(d[key]);
  }
  if (section == "train") {
    nlohmann::json d = default_train_json();
    if (!d.contains(key)) return FieldKind::unknown;
    return kind_of_default(d[key]);
  }
  if (section == "task") {
    if (key == "name") return FieldKind::string;
    if (key == "params") return FieldKind::table;
    if (key.rfind("params.", 0) == 0) return FieldKind::any;
    return FieldKind::unknown;
  }
  if (section == "probes") {
    if (key == "every" || key == "map_len") return FieldKind::integer;
    if (key == "names") return FieldKind::string_list;
    if (key == "attention_maps") return FieldKind::boolean;
    if (key == "params") return FieldKind::table;
    if (key.rfind("params.", 0) == 0) return FieldKind::any;
    return FieldKind::unknown;
  }
  return FieldKind::unknown;
}

std::string kind_name(FieldKind k) {
  switch (k) {
    case FieldKind::integer: return "an integer";
    case FieldKind::number: return "a number";
    case FieldKind::string: return "a string";
    case FieldKind::boolean: return "a boolean";
    case FieldKind::string_list: return "a string or an array of strings";
    case FieldKind::table: return "a table";
    case FieldKind::any: return "a value";
    default: return "nothing (unknown key)";
  }
}

std::string known_keys_hint(const std::string& path) {
  std::string section = path.substr(0, path.find('.'));
  if (section == "model") return " (known: " + join_keys(model_defaults(), "preset") + ")";
  if (section == "train") return " (known: " + join_keys(default_train_json()) + ")";
  if (section == "task") return " (known: name, params)";
  if (section == "probes") return " (known: " + join_keys(default_probes_json()) + ")";
  return " (sections: model, task, train, probes)";
}

}  // namespace attnlab::exp
