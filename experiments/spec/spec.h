#pragma once
// A study spec: one TOML file naming the model, attention, task, training, probes and their
// schedule, seeds, and the sweep axes. Parsing keeps the source line of every value so that a
// mistake anywhere (in the base config or in one value of an axis) is reported at its line.
//
//   name = "sinks"
//   seeds = [0, 1]
//   [model]   preset = "tiny", d_model = 64, attention = "softmax" (or one spec per layer)
//   [task]    name = "bigram_backcopy", [task.params] ...
//   [train]   steps, batch_size, lr, warmup, ... (TrainConfig fields)
//   [probes]  every = 50, names = ["sink"], attention_maps = true
//   [sweep.grid]  "model.attention" = ["softmax", "sigmoid(norm=false)"]   (cartesian product)
//   [[sweep.zip]] "train.lr" = [1e-3, 3e-4], "train.warmup" = [10, 50]    (varied together)
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlab::exp {

// One swept field: its dotted path into the config and the values it takes.
struct Axis {
  std::string path;  // e.g. "model.attention", "task.params.n_pairs"
  std::vector<nlohmann::json> values;
  std::vector<int> lines;  // source line of each value
};

// Grid axes vary independently; the axes of a zip group vary together (equal lengths).
struct AxisGroup {
  std::vector<Axis> axes;
  bool zipped = false;
  int line = 0;
  size_t size() const { return axes.empty() ? 0 : axes[0].values.size(); }
};

struct StudySpec {
  std::string name;
  std::string description;
  std::string file;  // where it was read from ("<string>" for in-memory specs)
  std::string text;  // the TOML as written, stored with every run
  // {model:{...}, task:{name, params}, train:{...}, probes:{...}}: only what the file sets.
  nlohmann::json base;
  std::map<std::string, int> lines;  // dotted path -> source line, for error messages
  std::vector<uint64_t> seeds;
  std::vector<AxisGroup> sweep;
};

// Reads and validates the file's shape: unknown keys, wrong types, empty axes, unequal zip
// lengths. Throws attnlab::Error "FILE:LINE: key: message".
StudySpec parse_spec_file(const std::string& path);
StudySpec parse_spec_string(const std::string& text, const std::string& file_for_errors = "<string>");

// The TrainConfig fields a spec may set under [train], with their JSON defaults.
nlohmann::json default_train_json();

}  // namespace attnlab::exp
