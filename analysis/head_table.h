#pragma once
// The analysis engine's output: layer x head x metric, plus per-position vectors per head
// (alpha_k, value norms), per-layer numbers and vectors (residual norms, massive activations),
// model-level scalars (Sink_1^eps in %, induction loss) and string metadata (probe, BOS policy,
// T, ...). Written as JSON (everything) and CSV (the head metrics), printed as a text table; the
// CLI, the results store and the GUI all read the same object.
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace attnlab {

class HeadTable {
 public:
  HeadTable() = default;
  HeadTable(int n_layers, int n_heads);

  int n_layers() const { return L_; }
  int n_heads() const { return H_; }

  // Head metrics, in the order first set (columns of the CSV and text table).
  void set(const std::string& metric, int layer, int head, double value);
  double get(const std::string& metric, int layer, int head) const;  // throws if absent
  bool has(const std::string& metric) const;
  std::vector<std::string> metrics() const;
  // Beside a head metric: the half-width of its 95 % interval over sequences, and its chance
  // level (what uniform attention over the same visible keys, tokens and T scores). NaN where
  // not given; the metric must have been set first.
  void set_ci95(const std::string& metric, int layer, int head, double half_width);
  double ci95(const std::string& metric, int layer, int head) const;
  void set_chance(const std::string& metric, int layer, int head, double value);
  double chance(const std::string& metric, int layer, int head) const;
  bool has_chance(const std::string& metric) const;

  // Per-position vectors of one head (e.g. "alpha", "value_norm").
  void set_head_vector(const std::string& name, int layer, int head, std::vector<double> v);
  const std::vector<double>& head_vector(const std::string& name, int layer, int head) const;
  std::vector<std::string> head_vector_names() const;

  // Per-layer data; layer -1 is the embedding output (residual stream before block 0).
  void set_layer_value(const std::string& name, int layer, double v);
  double layer_value(const std::string& name, int layer) const;
  void set_layer_vector(const std::string& name, int layer, std::vector<double> v);
  const std::vector<double>& layer_vector(const std::string& name, int layer) const;

  void set_scalar(const std::string& name, double v);
  double scalar(const std::string& name) const;  // throws if absent
  bool has_scalar(const std::string& name) const;
  const std::vector<std::pair<std::string, double>>& scalars() const { return scalars_; }

  void set_meta(const std::string& key, const std::string& value);
  std::string meta(const std::string& key) const;  // "" if absent
  const std::vector<std::pair<std::string, std::string>>& metas() const { return meta_; }

  // Copies every entry of `other` (same shape) with names prefixed by `prefix` (e.g. "sink."),
  // so several probes make one table.
  void merge(const HeadTable& other, const std::string& prefix);

  nlohmann::json to_json() const;
  // to_json() without the head and layer vectors (the per-position data, T values per head).
  nlohmann::json summary_json() const;
  static HeadTable from_json(const nlohmann::json& j);

  void write_json(const std::string& path) const;  // atomically
  // One row per (layer, head): layer,head,<metric>[,<metric>_ci95][,<metric>_chance]... Atomically.
  void write_csv(const std::string& path) const;
  // Cells read "value +-ci95"; after each layer's heads a "chance" row gives the chance levels.
  void print(std::ostream& os, const std::vector<std::string>& columns = {}) const;

 private:
  struct Named {
    std::string name;
    std::vector<double> values;
    std::vector<double> ci95, chance;  // empty when the metric has none
  };
  Named& named_metric(const std::string& metric);
  const Named& named_metric(const std::string& metric) const;
  struct NamedVectors {
    std::string name;
    std::vector<std::vector<double>> vectors;
  };
  size_t head_index(int layer, int head) const;
  size_t layer_index(int layer) const;
  int L_ = 0, H_ = 0;
  std::vector<Named> metrics_;
  std::vector<NamedVectors> head_vectors_;
  std::vector<Named> layer_values_;
  std::vector<NamedVectors> layer_vectors_;
  std::vector<std::pair<std::string, double>> scalars_;
  std::vector<std::pair<std::string, std::string>> meta_;
};

}  // namespace attnlab
