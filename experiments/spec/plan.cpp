// Expansion of the sweep axes (grid = cartesian product, zip groups vary together, seeds
// innermost) and resolution of each run's config with validation at the source line.
#include "experiments/spec/plan.h"

#include <cstdio>
#include <set>

#include "core/attention/attention.h"
#include "core/model/config.h"
#include "core/tensor/error.h"
#include "experiments/spec/spec_keys.h"
#include "experiments/spec/task_bridge.h"
#include "experiments/training_vocab.h"

namespace attnlab::exp {

namespace {

void set_path(nlohmann::json& root, const std::string& path, const nlohmann::json& v) {
  nlohmann::json* at = &root;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      (*at)[part] = v;
      return;
    }
    at = &(*at)[part];
    start = dot + 1;
  }
}

struct Resolver {
  const StudySpec& spec;
  std::map<std::string, int> axis_lines;  // path -> line of the value this run takes
  std::string run_label;

  int line_for(const std::string& path) const {
    auto it = axis_lines.find(path);
    if (it != axis_lines.end()) return it->second;
    auto jt = spec.lines.find(path);
    if (jt != spec.lines.end()) return jt->second;
    std::string section = path.substr(0, path.find('.'));
    jt = spec.lines.find(section);
    return jt != spec.lines.end() ? jt->second : 1;
  }
  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw Error(spec.file + ":" + std::to_string(line_for(path)) + ": " + path + ": " + msg +
                (run_label.empty() ? "" : " (in run " + run_label + ")"));
  }

  nlohmann::json resolve(nlohmann::json cfg, uint64_t seed) {
    nlohmann::json out;
    // Task first: the model takes its vocabulary from it unless the spec sets one.
    nlohmann::json task = cfg.value("task", nlohmann::json::object());
    if (!task.contains("params")) task["params"] = nlohmann::json::object();
    nlohmann::json train_in = cfg.value("train", nlohmann::json::object());
    TrainConfig tc;
    try {
      tc = train_from_json(train_in);
    } catch (const std::exception& e) {
      fail("train", e.what());
    }
    std::unique_ptr<Task> t;
    try {
      t = make_study_task(task, seed, tc.batch_size, tc.seq_len);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      fail(msg.find("param") != std::string::npos && task["params"].size() ? "task.params"
                                                                           : "task.name",
           msg);
    }
    out["task"] = task;

    nlohmann::json m = cfg.value("model", nlohmann::json::object());
    ModelConfig base;
    if (m.contains("preset")) {
      try {
        base = preset_config(m["preset"].get<std::string>());
      } catch (const std::exception& e) {
        fail("model.preset", e.what());
      }
      m.erase("preset");
    }
    nlohmann::json mj;
    to_json(mj, base);
    if (m.contains("n_heads") && !m.contains("n_kv_heads")) mj.erase("n_kv_heads");
    if (!m.contains("vocab_size")) mj["vocab_size"] = t->vocab_size();
    if (!m.contains("input_dim")) {  // continuous tasks (in-context regression), as `attnlab train`
      Batch probe;
      t->next(probe);
      t->seek(0);
      if (probe.in_dim > 0) mj["input_dim"] = probe.in_dim;
    }
    if (!m.contains("context")) mj["context"] = std::max<int>(mj.value("context", 0), t->seq_len());
    for (auto it = m.begin(); it != m.end(); ++it) mj[it.key()] = it.value();
    ModelConfig mc;
    try {
      from_json(mj, mc);
    } catch (const std::exception& e) {
      fail("model", e.what());
    }
    try {
      mc.validate();
      validate_config_sizes(mc, "study spec", memory_weight_limit(),
                            "the weights this machine's memory holds");
    } catch (const std::exception& e) {
      fail("model", e.what());
    }
    adopt_task_bos(mc, *t);
    if (mc.vocab_size < t->vocab_size())
      fail("model.vocab_size", "is " + std::to_string(mc.vocab_size) + " but the task uses " +
                                   std::to_string(t->vocab_size()) + " tokens");
    if (t->seq_len() > mc.context)
      fail("model.context", "is " + std::to_string(mc.context) + " but the task's sequences have " +
                                std::to_string(t->seq_len()) + " tokens");
    if (mc.attention.size() != 1 && int(mc.attention.size()) != mc.n_layers)
      fail("model.attention", "gives " + std::to_string(mc.attention.size()) + " specs for " +
                                  std::to_string(mc.n_layers) +
                                  " layers (give one, or one per layer)");
    for (int l = 0; l < mc.n_layers; ++l) {
      try {
        (void)make_attention(mc.attention_for_layer(l), mc.attention_context(l));
      } catch (const std::exception& e) {
        fail("model.attention", e.what());
      }
    }
    to_json(out["model"], mc);

    out["train"] = train_to_json(tc);

    nlohmann::json probes = default_probes_json();
    nlohmann::json pin = cfg.value("probes", nlohmann::json::object());
    for (auto it = pin.begin(); it != pin.end(); ++it) probes[it.key()] = it.value();
    if (probes["names"].is_string()) probes["names"] = nlohmann::json::array({probes["names"]});
    if (probes["every"].get<int64_t>() < 0)
      fail("probes.every", "must be >= 0 (0: only at the end)");
    std::vector<std::string> known = known_probes();
    for (const auto& n : probes["names"]) {
      std::string name = n.get<std::string>();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        fail("probes.names", "unknown probe '" + name + "' (known: " + list + ")");
      }
    }
    out["probes"] = probes;
    out["seed"] = seed;
    return out;
  }
};

}  // namespace

std::string RunPlan::label() const {
  std::string s;
  for (auto it = axes.begin(); it != axes.end(); ++it)
    s += (s.empty() ? "" : " ") + it.key() + "=" + value_text(it.value());
  return s;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() && v.size() == 1) return value_text(v[0]);  // one attention spec for all layers
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + value_text(e);
    return "[" + s + "]";
  }
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  return v.dump();
}

nlohmann::json config_value(const nlohmann::json& config, const std::string& path) {
  const nlohmann::json* at = &config;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->is_object() || !at->contains(part)) return nullptr;
    at = &(*at)[part];
    if (dot == std::string::npos) return *at;
    start = dot + 1;
  }
}

std::string run_id_of(const nlohmann::json& resolved) {
  // FNV-1a 64 of the canonical dump (nlohmann orders object keys), so ids are stable.
  std::string s = resolved.dump();
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return std::string(buf, 12);
}

std::vector<RunPlan> plan_runs(const StudySpec& spec) {
  // Odometer over the groups: each group contributes one index (zip groups move together).
  std::vector<size_t> idx(spec.sweep.size(), 0);
  std::vector<RunPlan> runs;
  std::set<std::string> seen;
  while (true) {
    for (uint64_t seed : spec.seeds) {
      Resolver r{spec, {}, ""};
      nlohmann::json cfg = spec.base;
      nlohmann::json axes = nlohmann::json::object();
      for (size_t g = 0; g < spec.sweep.size(); ++g)
        for (const Axis& a : spec.sweep[g].axes) {
          set_path(cfg, a.path, a.values[idx[g]]);
          axes[a.path] = a.values[idx[g]];
          r.axis_lines[a.path] = a.lines[idx[g]];
        }
      axes["seed"] = seed;
      RunPlan p;
      p.axes = axes;
      p.seed = seed;
      r.run_label = p.label();
      p.config = r.resolve(cfg, seed);
      p.id = run_id_of(p.config);
      if (seen.insert(p.id).second) runs.push_back(std::move(p));
    }
    size_t g = 0;
    for (; g < idx.size(); ++g) {
      if (++idx[g] < spec.sweep[g].size()) break;
      idx[g] = 0;
    }
    if (g == idx.size()) break;
  }
  return runs;
}

}  // namespace attnlab::exp
