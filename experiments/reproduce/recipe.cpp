#include "experiments/reproduce/recipe.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>

#include "core/tensor/error.h"
#include "experiments/spec/plan.h"
#include "experiments/spec/toml_json.h"

namespace attnlab::exp {

namespace fs = std::filesystem;

namespace {

struct Reader {
  std::string file;

  [[noreturn]] void fail(const toml::node& n, const std::string& msg) const {
    throw Error(file + ":" + std::to_string(n.source().begin.line) + ": " + msg);
  }

  nlohmann::json value(const toml::node& n) const {
    if (n.is_table() || n.is_date() || n.is_time() || n.is_date_time())
      fail(n, "expected a string, number, boolean or array");
    return toml_to_json(n);
  }

  std::string text(const toml::table& t, const std::string& key, bool required) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) throw Error(file + ": missing '" + key + "'");
      return "";
    }
    if (!n->is_string()) fail(*n, key + ": expected a string");
    return n->as_string()->get();
  }

  double number(const toml::table& t, const std::string& key, double fallback) const {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    if (!n->is_number()) fail(*n, key + ": expected a number");
    return n->value<double>().value();
  }

  // { "model.attention" = "softmax", "model.n_layers" = 2 } -> filters on the runs' configs.
  std::vector<Filter> filters(const toml::table& t, const std::string& key) const {
    std::vector<Filter> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    if (!n->is_table())
      fail(*n,
           key + ": expected a table of config fields, e.g. { \"model.attention\" = \"softmax\" }");
    for (auto&& [k, v] : *n->as_table())
      out.push_back({std::string(k.str()), value_text(value(v))});
    return out;
  }

  void check_keys(const toml::table& t, const std::vector<std::string>& known,
                  const std::string& what) const {
    for (auto&& [k, v] : t)
      if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end())
        fail(v, what + ": unknown key '" + std::string(k.str()) + "'");
  }

  Check check(const toml::table& t) const {
    check_keys(t,
               {"name", "kind", "metric", "metric_b", "reduce", "layer", "a", "b", "op", "value",
                "step", "b_step", "published", "note"},
               "[[check]]");
    Check c;
    c.name = text(t, "name", true);
    c.kind = text(t, "kind", true);
    c.metric = text(t, "metric", true);
    c.metric_b = text(t, "metric_b", false);
    if (auto r = text(t, "reduce", false); !r.empty()) c.reduce = r;
    c.layer = int(number(t, "layer", -1));
    c.a = filters(t, "a");
    c.b = filters(t, "b");
    if (auto op = text(t, "op", false); !op.empty()) c.op = op;
    c.value = number(t, "value", 0);
    c.step = int64_t(number(t, "step", -1));
    if (t.get("b_step")) {
      if (c.kind == "threshold")
        fail(t, "check '" + c.name + "': b_step needs a compare or ratio check");
      c.b_step = int64_t(number(t, "b_step", -1));
    }
    c.published = text(t, "published", false);
    c.note = text(t, "note", false);
    if (c.kind != "compare" && c.kind != "threshold" && c.kind != "ratio")
      fail(t, "check '" + c.name + "': kind must be compare, threshold or ratio");
    if (c.op != ">" && c.op != "<") fail(t, "check '" + c.name + "': op must be > or <");
    if (c.reduce != "max" && c.reduce != "min" && c.reduce != "mean")
      fail(t, "check '" + c.name + "': reduce must be max, min or mean");
    if (c.kind == "threshold" && !c.metric_b.empty())
      fail(t, "check '" + c.name + "': metric_b needs a compare or ratio check");
    if (c.kind != "threshold" && !t.get("b"))
      fail(t, "check '" + c.name + "': a " + c.kind + " check needs group b");
    if (c.kind != "compare" && !t.get("value"))
      fail(t, "check '" + c.name + "': a " + c.kind + " check needs value");
    return c;
  }

  RecipeFigure figure(const toml::table& t) const {
    check_keys(t,
               {"name", "kind", "metric", "group_by", "filter", "reduce", "layer", "head", "band",
                "title", "log_y"},
               "[[figure]]");
    RecipeFigure f;
    f.name = text(t, "name", true);
    fig::FigureRequest& q = f.request;
    if (auto k = text(t, "kind", false); !k.empty()) q.kind = k;
    q.metric = text(t, "metric", true);
    q.group_by = text(t, "group_by", false);
    q.filters = filters(t, "filter");
    if (auto r = text(t, "reduce", false); !r.empty()) q.reduce = r;
    q.layer = int(number(t, "layer", -1));
    q.head = int(number(t, "head", -1));
    if (auto b = text(t, "band", false); !b.empty()) q.band = b;
    q.title = text(t, "title", false);
    if (const toml::node* n = t.get("log_y")) q.log_y = n->value_or(false);
    return f;
  }
};

// Sets a dotted path ("train.steps", "task.params.block") in a spec's base config.
void set_path(nlohmann::json& base, const std::string& path, const nlohmann::json& v) {
  nlohmann::json* at = &base;
  size_t start = 0, dot;
  while ((dot = path.find('.', start)) != std::string::npos) {
    at = &(*at)[path.substr(start, dot - start)];
    start = dot + 1;
  }
  (*at)[path.substr(start)] = v;
}

}  // namespace

Recipe load_recipe(const std::string& dir) {
  Reader rd{(fs::path(dir) / "recipe.toml").string()};
  toml::table t;
  try {
    t = toml::parse_file(rd.file);
  } catch (const toml::parse_error& e) {
    throw Error(rd.file + ":" + std::to_string(e.source().begin.line) + ": " +
                std::string(e.description()));
  }
  rd.check_keys(t, {"id", "title", "paper", "claim", "study", "scale", "check", "figure"},
                "recipe");
  Recipe r;
  r.dir = dir;
  r.id = rd.text(t, "id", true);
  r.title = rd.text(t, "title", true);
  r.paper = rd.text(t, "paper", true);
  r.claim = rd.text(t, "claim", true);
  std::string study = rd.text(t, "study", false);
  r.study_file = (fs::path(dir) / (study.empty() ? "study.toml" : study)).string();
  r.smoke = nlohmann::json::object();
  if (const toml::table* smoke = t["scale"]["smoke"].as_table())
    for (auto&& [k, v] : *smoke) r.smoke[std::string(k.str())] = rd.value(v);
  if (const toml::array* checks = t["check"].as_array())
    for (const toml::node& n : *checks) {
      if (!n.is_table()) rd.fail(n, "[[check]] must be a table");
      r.checks.push_back(rd.check(*n.as_table()));
    }
  if (const toml::array* figs = t["figure"].as_array())
    for (const toml::node& n : *figs) {
      if (!n.is_table()) rd.fail(n, "[[figure]] must be a table");
      r.figures.push_back(rd.figure(*n.as_table()));
    }
  return r;
}

std::vector<Recipe> find_recipes(const std::string& recipes_dir) {
  if (!fs::is_directory(recipes_dir))
    throw Error("no recipes folder '" + recipes_dir + "' (use --recipes DIR)");
  std::vector<Recipe> out;
  for (const auto& e : fs::directory_iterator(recipes_dir))
    if (fs::exists(e.path() / "recipe.toml")) out.push_back(load_recipe(e.path().string()));
  std::sort(out.begin(), out.end(), [](const Recipe& a, const Recipe& b) { return a.id < b.id; });
  return out;
}

Recipe find_recipe(const std::string& recipes_dir, const std::string& name) {
  std::string known;
  for (Recipe& r : find_recipes(recipes_dir)) {
    if (r.id == name || fs::path(r.dir).filename() == name) return r;
    known += (known.empty() ? "" : ", ") + r.id;
  }
  throw Error("no recipe '" + name + "' in " + recipes_dir + " (known: " + known + ")");
}

StudySpec study_at_scale(const Recipe& r, const std::string& scale) {
  if (scale != "full" && scale != "smoke")
    throw Error("--scale must be smoke or full, not '" + scale + "'");
  StudySpec spec = parse_spec_file(r.study_file);
  if (scale == "full") return spec;
  spec.name += "-smoke";
  for (auto it = r.smoke.begin(); it != r.smoke.end(); ++it) {
    if (it.key() == "seeds") {
      spec.seeds.clear();
      for (const auto& s : it.value()) spec.seeds.push_back(s.get<uint64_t>());
      continue;
    }
    for (const AxisGroup& g : spec.sweep)
      for (const Axis& a : g.axes)
        if (a.path == it.key())
          throw Error(r.dir + "/recipe.toml: [scale.smoke] cannot override the swept " + a.path);
    set_path(spec.base, it.key(), it.value());
  }
  return spec;
}

}  // namespace attnlab::exp
