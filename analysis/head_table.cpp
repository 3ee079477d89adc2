#include "analysis/head_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/atomic_write.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

template <class V>
V* find_named(std::vector<V>& v, const std::string& name) {
  for (V& x : v)
    if (x.name == name) return &x;
  return nullptr;
}
template <class V>
const V* find_named(const std::vector<V>& v, const std::string& name) {
  for (const V& x : v)
    if (x.name == name) return &x;
  return nullptr;
}

// JSON has no NaN/inf: write them as null and read null back as NaN.
nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }
double from_num(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}
nlohmann::json nums(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(num(x));
  return a;
}
// The same as nums(v).dump(), written straight to `os` (shortest round-trip digits).
void write_nums(std::ostream& os, const std::vector<double>& v) {
  char buf[32];
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) os << ',';
    if (!std::isfinite(v[i])) {
      os << "null";
      continue;
    }
    const auto r = std::to_chars(buf, buf + sizeof buf, v[i]);
    os.write(buf, r.ptr - buf);
  }
  os << ']';
}
std::vector<double> from_nums(const nlohmann::json& a) {
  std::vector<double> v;
  for (const auto& x : a) v.push_back(from_num(x));
  return v;
}

std::string format_value(double v, int digits = 4) {
  if (!std::isfinite(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

// "value", "value +-ci" (an interval has two significant digits), "(chance c)" appended.
std::string format_estimate(double v, double ci, double chance) {
  std::string s = format_value(v);
  if (std::isfinite(ci)) s += " +-" + format_value(ci, 2);
  if (std::isfinite(chance)) s += "  (chance " + format_value(chance) + ")";
  return s;
}

}  // namespace

HeadTable::HeadTable(int n_layers, int n_heads) : L_(n_layers), H_(n_heads) {
  if (n_layers < 1 || n_heads < 1) throw Error("HeadTable: needs at least one layer and head");
}

size_t HeadTable::head_index(int layer, int head) const {
  if (layer < 0 || layer >= L_ || head < 0 || head >= H_)
    throw Error("HeadTable: no head L" + std::to_string(layer) + "H" + std::to_string(head) +
                " in a table of " + std::to_string(L_) + " layers x " + std::to_string(H_) + " heads");
  return size_t(layer) * H_ + head;
}

size_t HeadTable::layer_index(int layer) const {
  if (layer < -1 || layer >= L_)
    throw Error("HeadTable: no layer " + std::to_string(layer) + " (layers -1.." +
                std::to_string(L_ - 1) + ")");
  return size_t(layer + 1);
}

void HeadTable::set(const std::string& metric, int layer, int head, double value) {
  size_t i = head_index(layer, head);
  Named* m = find_named(metrics_, metric);
  if (!m) {
    metrics_.push_back({metric, std::vector<double>(size_t(L_) * H_, std::numeric_limits<double>::quiet_NaN())});
    m = &metrics_.back();
  }
  m->values[i] = value;
}

double HeadTable::get(const std::string& metric, int layer, int head) const {
  return named_metric(metric).values[head_index(layer, head)];
}

HeadTable::Named& HeadTable::named_metric(const std::string& metric) {
  Named* m = find_named(metrics_, metric);
  if (!m) throw Error("HeadTable: no metric '" + metric + "'");
  return *m;
}

const HeadTable::Named& HeadTable::named_metric(const std::string& metric) const {
  const Named* m = find_named(metrics_, metric);
  if (!m) throw Error("HeadTable: no metric '" + metric + "'");
  return *m;
}

namespace {
void set_beside(std::vector<double>& v, size_t n, size_t i, double x) {
  if (v.empty()) v.assign(n, std::numeric_limits<double>::quiet_NaN());
  v[i] = x;
}
double get_beside(const std::vector<double>& v, size_t i) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : v[i];
}
}  // namespace

void HeadTable::set_ci95(const std::string& metric, int layer, int head, double half_width) {
  set_beside(named_metric(metric).ci95, size_t(L_) * H_, head_index(layer, head), half_width);
}
double HeadTable::ci95(const std::string& metric, int layer, int head) const {
  return get_beside(named_metric(metric).ci95, head_index(layer, head));
}
void HeadTable::set_chance(const std::string& metric, int layer, int head, double value) {
  set_beside(named_metric(metric).chance, size_t(L_) * H_, head_index(layer, head), value);
}
double HeadTable::chance(const std::string& metric, int layer, int head) const {
  return get_beside(named_metric(metric).chance, head_index(layer, head));
}
bool HeadTable::has_chance(const std::string& metric) const {
  const Named* m = find_named(metrics_, metric);
  return m && !m->chance.empty();
}

bool HeadTable::has(const std::string& metric) const { return find_named(metrics_, metric) != nullptr; }

std::vector<std::string> HeadTable::metrics() const {
  std::vector<std::string> out;
  for (const Named& m : metrics_) out.push_back(m.name);
  return out;
}

void HeadTable::set_head_vector(const std::string& name, int layer, int head, std::vector<double> v) {
  size_t i = head_index(layer, head);
  NamedVectors* n = find_named(head_vectors_, name);
  if (!n) {
    head_vectors_.push_back({name, std::vector<std::vector<double>>(size_t(L_) * H_)});
    n = &head_vectors_.back();
  }
  n->vectors[i] = std::move(v);
}

const std::vector<double>& HeadTable::head_vector(const std::string& name, int layer, int head) const {
  const NamedVectors* n = find_named(head_vectors_, name);
  if (!n) throw Error("HeadTable: no head vector '" + name + "'");
  return n->vectors[head_index(layer, head)];
}

std::vector<std::string> HeadTable::head_vector_names() const {
  std::vector<std::string> out;
  for (const NamedVectors& n : head_vectors_) out.push_back(n.name);
  return out;
}

void HeadTable::set_layer_value(const std::string& name, int layer, double v) {
  size_t i = layer_index(layer);
  Named* n = find_named(layer_values_, name);
  if (!n) {
    layer_values_.push_back({name, std::vector<double>(size_t(L_) + 1, std::numeric_limits<double>::quiet_NaN())});
    n = &layer_values_.back();
  }
  n->values[i] = v;
}

double HeadTable::layer_value(const std::string& name, int layer) const {
  const Named* n = find_named(layer_values_, name);
  if (!n) throw Error("HeadTable: no layer value '" + name + "'");
  return n->values[layer_index(layer)];
}

void HeadTable::set_layer_vector(const std::string& name, int layer, std::vector<double> v) {
  size_t i = layer_index(layer);
  NamedVectors* n = find_named(layer_vectors_, name);
  if (!n) {
    layer_vectors_.push_back({name, std::vector<std::vector<double>>(size_t(L_) + 1)});
    n = &layer_vectors_.back();
  }
  n->vectors[i] = std::move(v);
}

const std::vector<double>& HeadTable::layer_vector(const std::string& name, int layer) const {
  const NamedVectors* n = find_named(layer_vectors_, name);
  if (!n) throw Error("HeadTable: no layer vector '" + name + "'");
  return n->vectors[layer_index(layer)];
}

void HeadTable::set_scalar(const std::string& name, double v) {
  for (auto& [k, x] : scalars_)
    if (k == name) {
      x = v;
      return;
    }
  scalars_.emplace_back(name, v);
}

bool HeadTable::has_scalar(const std::string& name) const {
  for (const auto& [k, x] : scalars_)
    if (k == name) return true;
  return false;
}

double HeadTable::scalar(const std::string& name) const {
  for (const auto& [k, x] : scalars_)
    if (k == name) return x;
  throw Error("HeadTable: no scalar '" + name + "'");
}

void HeadTable::set_meta(const std::string& key, const std::string& value) {
  for (auto& [k, x] : meta_)
    if (k == key) {
      x = value;
      return;
    }
  meta_.emplace_back(key, value);
}

std::string HeadTable::meta(const std::string& key) const {
  for (const auto& [k, x] : meta_)
    if (k == key) return x;
  return "";
}

void HeadTable::merge(const HeadTable& other, const std::string& prefix) {
  if (other.L_ != L_ || other.H_ != H_) throw Error("HeadTable::merge: tables differ in shape");
  for (const Named& m : other.metrics_) {
    Named x{prefix + m.name, m.values, m.ci95, m.chance};
    if (Named* old = find_named(metrics_, x.name)) *old = x;
    else metrics_.push_back(x);
  }
  for (const NamedVectors& n : other.head_vectors_) head_vectors_.push_back({prefix + n.name, n.vectors});
  for (const Named& m : other.layer_values_) layer_values_.push_back({prefix + m.name, m.values});
  for (const NamedVectors& n : other.layer_vectors_) layer_vectors_.push_back({prefix + n.name, n.vectors});
  for (const auto& [k, v] : other.scalars_) set_scalar(prefix + k, v);
  for (const auto& [k, v] : other.meta_) set_meta(prefix + k, v);
}

nlohmann::json HeadTable::summary_json() const {
  using nlohmann::json;
  json j;
  j["n_layers"] = L_;
  j["n_heads"] = H_;
  json meta = json::object();
  for (const auto& [k, v] : meta_) meta[k] = v;
  j["meta"] = meta;
  json sc = json::array();
  for (const auto& [k, v] : scalars_) sc.push_back({{"name", k}, {"value", num(v)}});
  j["scalars"] = sc;
  json hm = json::array();
  for (const Named& m : metrics_) {
    json e = {{"name", m.name}, {"values", nums(m.values)}};
    if (!m.ci95.empty()) e["ci95"] = nums(m.ci95);
    if (!m.chance.empty()) e["chance"] = nums(m.chance);
    hm.push_back(e);
  }
  j["head_metrics"] = hm;  // values (and ci95 half-widths, chance levels) indexed layer * n_heads + head
  json lv = json::array();
  for (const Named& m : layer_values_) lv.push_back({{"name", m.name}, {"values", nums(m.values)}});
  j["layer_values"] = lv;  // index layer + 1 (index 0: embeddings)
  return j;
}

nlohmann::json HeadTable::to_json() const {
  using nlohmann::json;
  json j = summary_json();
  auto vectors = [](const std::vector<NamedVectors>& named) {
    json out = json::array();
    for (const NamedVectors& n : named) {
      json vs = json::array();
      for (const auto& v : n.vectors) vs.push_back(nums(v));
      out.push_back({{"name", n.name}, {"vectors", vs}});
    }
    return out;
  };
  j["head_vectors"] = vectors(head_vectors_);
  j["layer_vectors"] = vectors(layer_vectors_);
  return j;
}

HeadTable HeadTable::from_json(const nlohmann::json& j) {
  try {
    HeadTable t(j.at("n_layers").get<int>(), j.at("n_heads").get<int>());
    const size_t nh = size_t(t.L_) * t.H_, nl = size_t(t.L_) + 1;
    for (const auto& [k, v] : j.at("meta").items()) t.meta_.emplace_back(k, v.get<std::string>());
    for (const auto& s : j.at("scalars"))
      t.scalars_.emplace_back(s.at("name").get<std::string>(), from_num(s.at("value")));
    auto read_named = [](const nlohmann::json& arr, size_t n, std::vector<Named>& out) {
      for (const auto& m : arr) {
        Named x{m.at("name").get<std::string>(), from_nums(m.at("values")), {}, {}};
        if (m.contains("ci95")) x.ci95 = from_nums(m.at("ci95"));
        if (m.contains("chance")) x.chance = from_nums(m.at("chance"));
        auto wrong = [n](const std::vector<double>& v) { return !v.empty() && v.size() != n; };
        if (x.values.size() != n || wrong(x.ci95) || wrong(x.chance))
          throw Error("'" + x.name + "' has the wrong number of values");
        out.push_back(std::move(x));
      }
    };
    auto read_vectors = [](const nlohmann::json& arr, size_t n, std::vector<NamedVectors>& out) {
      for (const auto& m : arr) {
        NamedVectors x{m.at("name").get<std::string>(), {}};
        for (const auto& v : m.at("vectors")) x.vectors.push_back(from_nums(v));
        if (x.vectors.size() != n) throw Error("'" + x.name + "' has the wrong number of vectors");
        out.push_back(std::move(x));
      }
    };
    read_named(j.at("head_metrics"), nh, t.metrics_);
    read_vectors(j.at("head_vectors"), nh, t.head_vectors_);
    read_named(j.at("layer_values"), nl, t.layer_values_);
    read_vectors(j.at("layer_vectors"), nl, t.layer_vectors_);
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("HeadTable JSON: ") + e.what());
  } catch (const Error& e) {
    throw Error(std::string("HeadTable JSON: ") + e.what());
  }
}

void HeadTable::write_json(const std::string& path) const {
  // The same document as to_json(), but the per-position vectors (T values per head) go straight
  // to the file: as a JSON tree they were the largest allocation of a long analysis (about
  // 0.9 GB at T = 16K for 144 heads).
  std::string head = summary_json().dump(1);
  head.resize(head.rfind('}'));  // reopen the object
  while (!head.empty() && head.back() == '\n') head.pop_back();
  write_file_atomic(path, [&](std::ostream& os) {
    os << head;
    auto vectors = [&](const char* key, const std::vector<NamedVectors>& named) {
      os << ",\n \"" << key << "\": [";
      for (size_t i = 0; i < named.size(); ++i) {
        os << (i ? ",\n  {\"name\": " : "\n  {\"name\": ") << nlohmann::json(named[i].name).dump() << ", \"vectors\": [";
        for (size_t k = 0; k < named[i].vectors.size(); ++k) {
          if (k) os << ",\n   ";
          write_nums(os, named[i].vectors[k]);
        }
        os << "]}";
      }
      os << "]";
    };
    vectors("head_vectors", head_vectors_);
    vectors("layer_vectors", layer_vectors_);
    os << "\n}\n";
  });
}

void HeadTable::write_csv(const std::string& path) const {
  write_file_atomic(path, [&](std::ostream& os) {
    os << "layer,head";
    for (const Named& m : metrics_) {
      os << "," << m.name;
      if (!m.ci95.empty()) os << "," << m.name << "_ci95";
      if (!m.chance.empty()) os << "," << m.name << "_chance";
    }
    os << "\n" << std::setprecision(9);
    auto cell = [&](double v) {
      os << ",";
      if (std::isfinite(v)) os << v;
    };
    for (int l = 0; l < L_; ++l)
      for (int h = 0; h < H_; ++h) {
        os << l << "," << h;
        const size_t i = size_t(l) * H_ + h;
        for (const Named& m : metrics_) {
          cell(m.values[i]);
          if (!m.ci95.empty()) cell(m.ci95[i]);
          if (!m.chance.empty()) cell(m.chance[i]);
        }
        os << "\n";
      }
  });
}

void HeadTable::print(std::ostream& os, const std::vector<std::string>& columns) const {
  for (const auto& [k, v] : meta_) os << k << ": " << v << "\n";
  // A scalar "x" prints with its companions "x_ci95" and "x_chance" on one line.
  auto companion = [&](const std::string& name) {
    return has_scalar(name) ? scalar(name) : std::numeric_limits<double>::quiet_NaN();
  };
  auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  for (const auto& [k, v] : scalars_) {
    if (ends_with(k, "_ci95") || ends_with(k, "_chance")) {
      if (has_scalar(k.substr(0, k.rfind('_')))) continue;
    }
    os << k << " = " << format_estimate(v, companion(k + "_ci95"), companion(k + "_chance")) << "\n";
  }
  std::vector<const Named*> cols;
  if (columns.empty()) {
    for (const Named& m : metrics_) cols.push_back(&m);
  } else {
    for (const std::string& c : columns)
      if (const Named* m = find_named(metrics_, c)) cols.push_back(m);
  }
  if (!cols.empty()) {
    // A cell is "value" or "value+-ci95"; chance levels go on a row of their own per layer.
    auto text = [&](const Named* m, size_t i) {
      std::string s = format_value(m->values[i]);
      if (!m->ci95.empty() && std::isfinite(m->ci95[i])) s += "+-" + format_value(m->ci95[i], 2);
      return s;
    };
    std::vector<size_t> width;
    bool any_chance = false;
    for (const Named* m : cols) {
      size_t w = std::max<size_t>(m->name.size(), 8);
      for (size_t i = 0; i < m->values.size(); ++i) w = std::max(w, text(m, i).size());
      width.push_back(w);
      any_chance = any_chance || !m->chance.empty();
    }
    os << "\nhead    ";
    for (size_t c = 0; c < cols.size(); ++c) os << " " << std::setw(int(width[c])) << cols[c]->name;
    os << "\n";
    for (int l = 0; l < L_; ++l) {
      for (int h = 0; h < H_; ++h) {
        std::string id = "L" + std::to_string(l) + "H" + std::to_string(h);
        os << std::left << std::setw(8) << id << std::right;
        for (size_t c = 0; c < cols.size(); ++c)
          os << " " << std::setw(int(width[c])) << text(cols[c], size_t(l) * H_ + h);
        os << "\n";
      }
      if (!any_chance) continue;
      // Chance levels are per head in the table; print the layer's row when its heads agree.
      os << std::left << std::setw(8) << ("L" + std::to_string(l) + " chance") << std::right;
      for (size_t c = 0; c < cols.size(); ++c) {
        const Named* m = cols[c];
        std::string s = "-";
        if (!m->chance.empty()) {
          const double first = m->chance[size_t(l) * H_];
          bool same = true;
          for (int h = 1; h < H_; ++h) same = same && m->chance[size_t(l) * H_ + h] == first;
          s = same ? format_value(first) : "per-head";
        }
        os << " " << std::setw(int(width[c])) << s;
      }
      os << "\n";
    }
  }
  for (const Named& m : layer_values_) {
    os << "\n" << m.name << " per layer (emb, 0.." << L_ - 1 << "):";
    for (double v : m.values) os << " " << format_value(v);
  }
  if (!layer_values_.empty()) os << "\n";
}

}  // namespace attnlab
