// Spec parsing: TOML -> JSON with a line for every value, and the shape checks that need
// nothing but the file itself. Checks that need a resolved config are in plan.cpp.
#include "experiments/spec/spec.h"

#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "core/model/config.h"
#include "core/tensor/error.h"
#include "experiments/spec/spec_keys.h"
#include "experiments/spec/toml_json.h"
#include "experiments/spec/toml_nesting.h"

namespace attnlab::exp {

namespace {

int line_of(const toml::node& n) { return int(n.source().begin.line); }

[[noreturn]] void fail(const std::string& file, int line, const std::string& key, const std::string& msg) {
  throw Error(file + ":" + std::to_string(line) + ": " + key + ": " + msg);
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

struct Parser {
  std::string file;
  StudySpec spec;

  // Checks `value` against the kind of field at `path`; throws naming the line.
  void check_value(const std::string& path, const toml::node& value) {
    FieldKind kind = field_kind(path);
    int line = line_of(value);
    if (kind == FieldKind::unknown) fail(file, line, path, "unknown key" + known_keys_hint(path));
    bool ok = false;
    switch (kind) {
      case FieldKind::integer: ok = value.is_integer(); break;
      case FieldKind::number: ok = value.is_integer() || value.is_floating_point(); break;
      case FieldKind::string: ok = value.is_string(); break;
      case FieldKind::boolean: ok = value.is_boolean(); break;
      case FieldKind::string_list:
        ok = value.is_string();
        if (auto a = value.as_array()) {
          ok = !a->empty();
          for (const toml::node& e : *a) ok = ok && e.is_string();
        }
        break;
      case FieldKind::any: ok = !value.is_table(); break;
      case FieldKind::table: ok = value.is_table(); break;
      case FieldKind::unknown: break;
    }
    if (!ok) fail(file, line, path, "expected " + kind_name(kind) + ", got " + type_name(value));
  }

  void set_base(const std::string& path, const toml::node& value) {
    check_value(path, value);
    nlohmann::json* at = &spec.base;
    std::stringstream ss(path);
    std::string part;
    std::vector<std::string> parts;
    while (std::getline(ss, part, '.')) parts.push_back(part);
    for (size_t i = 0; i + 1 < parts.size(); ++i) at = &(*at)[parts[i]];
    (*at)[parts.back()] = toml_to_json(value);
    spec.lines[path] = line_of(value);
  }

  void section(const std::string& prefix, const toml::table& t) {
    for (auto&& [k, v] : t) {
      std::string path = prefix + "." + std::string(k.str());
      if (v.is_table() && (path == "task.params" || path == "probes.params")) {
        spec.lines[path] = line_of(v);
        for (auto&& [k2, v2] : *v.as_table()) {
          std::string p2 = path + "." + std::string(k2.str());
          if (v2.is_table()) fail(file, line_of(v2), p2, "nested tables are not task/probe parameters");
          set_base(p2, v2);
        }
        continue;
      }
      set_base(path, v);
    }
  }

  // Flattens [sweep.grid] (nested tables or quoted dotted keys) into axes.
  void collect_axes(const std::string& prefix, const toml::table& t, std::vector<Axis>& out) {
    for (auto&& [k, v] : t) {
      std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (auto sub = v.as_table()) {
        collect_axes(path, *sub, out);
        continue;
      }
      auto arr = v.as_array();
      if (!arr) fail(file, line_of(v), "sweep " + path, "an axis must be an array of values, got " + type_name(v));
      if (arr->empty()) fail(file, line_of(v), "sweep " + path, "empty axis (give at least one value)");
      if (path == "seed" || path == "seeds")
        fail(file, line_of(v), "sweep " + path, "seeds are not an axis; set the top-level 'seeds' list");
      if (path == "name" || path == "description" || path.rfind("sweep", 0) == 0)
        fail(file, line_of(v), "sweep " + path, "cannot be swept");
      Axis axis;
      axis.path = path;
      for (const toml::node& e : *arr) {
        check_value(path, e);
        axis.values.push_back(toml_to_json(e));
        axis.lines.push_back(line_of(e));
      }
      for (const Axis& other : out)
        if (other.path == path) fail(file, line_of(v), "sweep " + path, "swept twice");
      out.push_back(std::move(axis));
    }
  }

  void sweep_section(const toml::table& t) {
    for (auto&& [k, v] : t) {
      std::string key(k.str());
      if (key == "grid") {
        auto g = v.as_table();
        if (!g) fail(file, line_of(v), "sweep.grid", "expected a table of axes, got " + type_name(v));
        std::vector<Axis> axes;
        collect_axes("", *g, axes);
        for (Axis& a : axes) {
          AxisGroup group;
          group.line = a.lines.front();
          group.axes.push_back(std::move(a));
          spec.sweep.push_back(std::move(group));
        }
      } else if (key == "zip") {
        auto arr = v.as_array();
        if (!arr) fail(file, line_of(v), "sweep.zip", "expected [[sweep.zip]] tables, got " + type_name(v));
        for (const toml::node& z : *arr) {
          auto zt = z.as_table();
          if (!zt) fail(file, line_of(z), "sweep.zip", "expected a table of axes, got " + type_name(z));
          AxisGroup group;
          group.zipped = true;
          group.line = line_of(z);
          collect_axes("", *zt, group.axes);
          if (group.axes.empty()) fail(file, line_of(z), "sweep.zip", "empty zip group");
          for (const Axis& a : group.axes)
            if (a.values.size() != group.axes[0].values.size())
              fail(file, a.lines.front(), "sweep.zip " + a.path,
                   "has " + std::to_string(a.values.size()) + " values but " + group.axes[0].path + " has " +
                       std::to_string(group.axes[0].values.size()) + " (zipped axes need equal lengths)");
          spec.sweep.push_back(std::move(group));
        }
      } else {
        fail(file, line_of(v), "sweep." + key, "unknown key (known: grid, zip)");
      }
    }
    // An axis may appear only once across all groups, and not also as... (a base value is fine:
    // the axis overrides it).
    std::map<std::string, int> seen;
    for (const AxisGroup& g : spec.sweep)
      for (const Axis& a : g.axes) {
        if (seen.count(a.path)) fail(file, a.lines.front(), "sweep " + a.path, "swept twice");
        seen[a.path] = 1;
      }
  }

  void top(const toml::table& root) {
    for (auto&& [k, v] : root) {
      std::string key(k.str());
      int line = line_of(v);
      if (key == "name" || key == "description") {
        if (!v.is_string()) fail(file, line, key, "expected a string, got " + type_name(v));
        (key == "name" ? spec.name : spec.description) = v.as_string()->get();
      } else if (key == "seeds") {
        auto arr = v.as_array();
        if (!arr && !v.is_integer()) fail(file, line, key, "expected an array of integers, got " + type_name(v));
        if (v.is_integer()) {
          spec.seeds.push_back(uint64_t(v.as_integer()->get()));
        } else {
          if (arr->empty()) fail(file, line, key, "empty list (give at least one seed)");
          for (const toml::node& e : *arr) {
            if (!e.is_integer() || e.as_integer()->get() < 0)
              fail(file, line_of(e), key, "seeds must be non-negative integers, got " + type_name(e));
            spec.seeds.push_back(uint64_t(e.as_integer()->get()));
          }
        }
        spec.lines["seed"] = line;
      } else if (key == "model" || key == "task" || key == "train" || key == "probes") {
        auto t = v.as_table();
        if (!t) fail(file, line, key, "expected a table [" + key + "], got " + type_name(v));
        spec.lines[key] = line;
        section(key, *t);
      } else if (key == "sweep") {
        auto t = v.as_table();
        if (!t) fail(file, line, key, "expected a table [sweep], got " + type_name(v));
        sweep_section(*t);
      } else {
        fail(file, line, key, "unknown key (known: name, description, seeds, model, task, train, probes, sweep)");
      }
    }
    if (spec.name.empty()) fail(file, 1, "name", "missing: a spec needs name = \"...\" (it names the study store)");
    for (char c : spec.name)
      if (!(std::isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.'))
        fail(file, spec.lines.count("name") ? spec.lines["name"] : 1, "name",
             "'" + spec.name + "' may only contain letters, digits, '-', '_' and '.' (it names files)");
    if (!spec.base.contains("task") || !spec.base["task"].contains("name")) {
      bool swept = false;
      for (const AxisGroup& g : spec.sweep)
        for (const Axis& a : g.axes) swept = swept || a.path == "task.name";
      if (!swept) fail(file, spec.lines.count("task") ? spec.lines["task"] : 1, "task.name", "missing: [task] needs name = \"...\"");
    }
    if (spec.seeds.empty()) spec.seeds.push_back(0);
  }
};

}  // namespace

StudySpec parse_spec_string(const std::string& text, const std::string& file) {
  Parser p;
  p.file = file;
  p.spec.file = file;
  p.spec.text = text;
  p.spec.base = nlohmann::json::object();
  check_toml_nesting(text, file);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw Error(file + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  p.top(root);
  return std::move(p.spec);
}

StudySpec parse_spec_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read spec file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_spec_string(ss.str(), path);
}

}  // namespace attnlab::exp
