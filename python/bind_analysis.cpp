// Model.analyze and attnlab.HeadTable: the probes `attnlab analyze` runs, through the same call
// (experiments/runner/analyze_model.h), and the table it prints and writes.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/head_table.h"
#include "core/tensor/error.h"
#include "experiments/runner/analyze_model.h"
#include "python/arrays.h"
#include "python/bindings.h"
#include "python/model_handle.h"

namespace attnlab::py {

namespace {

// analyze(**options): the CLI's flag names with underscores, plus the ProbeOptions fields the CLI
// leaves at their defaults. One setter per name, so the error for an unknown one can list them.
using Setter = std::function<void(exp::AnalyzeRequest&, const pyb::handle&)>;

// A string as given, or a list of strings joined by `sep`.
std::string joined(const pyb::handle& v, const char* sep) {
  if (pyb::isinstance<pyb::str>(v)) return v.cast<std::string>();
  std::string out;
  for (const auto& x : v.cast<std::vector<std::string>>()) out += (out.empty() ? "" : sep) + x;
  return out;
}

const std::map<std::string, Setter>& option_setters() {
  using R = exp::AnalyzeRequest;
  using V = const pyb::handle&;
  static const std::map<std::string, Setter> setters = {
      {"n", [](R& r, V v) { r.opt.n_seqs = v.cast<int>(); }},
      {"T", [](R& r, V v) { r.opt.T = v.cast<int>(); }},
      {"eps", [](R& r, V v) { r.opt.metrics.sink_eps = v.cast<double>(); }},
      {"bos", [](R& r, V v) { r.opt.bos = v.cast<std::string>(); }},
      {"corpus",
       [](R& r, V v) {
         r.opt.corpus = v.cast<std::string>();
         r.corpus_given = true;
       }},
      {"retrieval_task",
       [](R& r, V v) {
         r.opt.retrieval_task = v.cast<std::string>();
         r.retrieval_task_given = true;
       }},
      {"haystack",
       [](R& r, V v) {
         r.opt.haystack_lengths = v.cast<std::vector<int>>();
         for (int x : r.opt.haystack_lengths)
           if (x <= 0)
             throw Error("haystack: " + std::to_string(x) + " is not a positive whole number");
       }},
      {"depths",
       [](R& r, V v) {
         r.opt.depths = v.cast<std::vector<double>>();
         for (double x : r.opt.depths)
           if (!(x >= 0.0 && x <= 1.0))
             throw Error("depths: " + std::to_string(x) + " is not a fraction in [0, 1]");
       }},
      {"question_style", [](R& r, V v) { r.opt.question_style = v.cast<std::string>(); }},
      {"needle", [](R& r, V v) { r.opt.needle = v.cast<std::string>(); }},
      {"answer", [](R& r, V v) { r.opt.needle_answer = v.cast<std::string>(); }},
      {"question", [](R& r, V v) { r.opt.question = v.cast<std::string>(); }},
      {"seed", [](R& r, V v) { r.opt.seed = v.cast<uint64_t>(); }},
      {"block", [](R& r, V v) { r.opt.block = v.cast<int>(); }},
      {"repeats", [](R& r, V v) { r.opt.repeats = v.cast<int>(); }},
      {"samples", [](R& r, V v) { r.opt.samples = v.cast<int>(); }},
      {"loss_batch", [](R& r, V v) { r.opt.loss_batch = v.cast<int>(); }},
      {"loss_subseq", [](R& r, V v) { r.opt.loss_subseq = v.cast<int>(); }},
      {"census_block", [](R& r, V v) { r.opt.census_block = v.cast<int>(); }},
      {"batch", [](R& r, V v) { r.opt.batch = v.cast<int>(); }},
      {"max_new", [](R& r, V v) { r.opt.max_new = v.cast<int>(); }},
      {"retrieval_threshold", [](R& r, V v) { r.opt.retrieval_threshold = v.cast<double>(); }},
      {"retrieval_trials", [](R& r, V v) { r.opt.retrieval_trials = v.cast<int>(); }},
      // The sparsity probe: patterns joined by ';' (or a list), budgets by ',' (or a list).
      {"patterns", [](R& r, V v) { r.opt.sparse_patterns = joined(v, ";"); }},
      {"budgets", [](R& r, V v) { r.opt.sparse_budgets = joined(v, ","); }},
      {"classify", [](R& r, V v) { r.opt.sparse_classify = v.cast<std::string>(); }},
  };
  return setters;
}

void apply_option(exp::AnalyzeRequest& r, const std::string& key, const pyb::handle& v) {
  auto it = option_setters().find(key);
  if (it == option_setters().end()) {
    std::string known;
    for (const auto& [name, set] : option_setters()) known += (known.empty() ? "" : ", ") + name;
    throw Error("analyze: unknown option '" + key + "' (known: " + known + ")");
  }
  it->second(r, v);
}

// (table, notes): the notes the CLI prints on stderr (a probe skipped, what the GPU leaves out),
// which the Python side raises as warnings.
std::pair<HeadTable, std::string> analyze(ModelHandle& h, const std::string& probe,
                                          std::optional<std::string> prompt,
                                          const std::string& ablate, const std::string& ablate_mode,
                                          const std::string& source, const std::string& device,
                                          const pyb::dict& options) {
  exp::AnalyzeRequest r;
  r.probe = probe;
  r.has_prompt = prompt.has_value();
  r.prompt = prompt.value_or("");
  r.ablate = ablate;
  r.ablate_mode = ablate_mode;
  r.source = source;
  r.device = device;
  r.model_label = h.label;
  r.context_override = h.context_override;
  for (const auto& [k, v] : options) {
    const std::string key = k.cast<std::string>();
    try {
      apply_option(r, key, v);
    } catch (const pyb::cast_error&) {
      throw Error("analyze: option '" + key + "' has the wrong type (" +
                  std::string(pyb::str(pyb::type::of(v))) + ")");
    }
  }
  exp::requested_probes(r);  // bad names fail before the forward passes
  pyb::gil_scoped_release nogil;
  std::lock_guard<std::mutex> lock(h.mu);
  std::ostringstream notes;
  HeadTable table = exp::analyze_model(h.opened, r, notes);
  return {std::move(table), notes.str()};
}

// [layer, head] float64 of one metric's values, ci95 half-widths or chance levels.
pyb::array_t<double> grid(const HeadTable& t, const std::string& metric,
                          double (HeadTable::*get)(const std::string&, int, int) const) {
  if (!t.has(metric)) {
    std::string known;
    for (const std::string& m : t.metrics()) known += (known.empty() ? "" : ", ") + m;
    throw Error("the table has no metric '" + metric + "' (it has: " + known + ")");
  }
  std::vector<double> v;
  for (int l = 0; l < t.n_layers(); ++l)
    for (int hd = 0; hd < t.n_heads(); ++hd) v.push_back((t.*get)(metric, l, hd));
  return owned_array(std::move(v), {t.n_layers(), t.n_heads()});
}

}  // namespace

void bind_analysis(pyb::module_& m) {
  pyb::class_<HeadTable>(
      m, "HeadTable",
      "Layer x head x metric, with scalars and meta: what `attnlab analyze` prints and writes.")
      .def_property_readonly("n_layers", &HeadTable::n_layers)
      .def_property_readonly("n_heads", &HeadTable::n_heads)
      .def_property_readonly("metrics", &HeadTable::metrics)
      .def_property_readonly("scalars",
                             [](const HeadTable& t) {
                               pyb::dict d;  // in the order set, as the table prints them
                               for (const auto& [k, v] : t.scalars()) d[pyb::str(k)] = v;
                               return d;
                             })
      .def_property_readonly("meta",
                             [](const HeadTable& t) {
                               pyb::dict d;
                               for (const auto& [k, v] : t.metas()) d[pyb::str(k)] = v;
                               return d;
                             })
      .def(
          "to_numpy",
          [](const HeadTable& t, const std::string& metric) {
            return grid(t, metric, &HeadTable::get);
          },
          pyb::arg("metric"), "float64 [layer, head]; NaN where the metric is undefined.")
      .def(
          "ci95",
          [](const HeadTable& t, const std::string& metric) {
            return grid(t, metric, &HeadTable::ci95);
          },
          pyb::arg("metric"),
          "Half-widths of the 95 % intervals, [layer, head] (NaN where not given).")
      .def(
          "chance",
          [](const HeadTable& t, const std::string& metric) {
            return grid(t, metric, &HeadTable::chance);
          },
          pyb::arg("metric"),
          "Chance levels (uniform attention), [layer, head] (NaN where not given).")
      .def("has_chance", &HeadTable::has_chance, pyb::arg("metric"))
      .def_property_readonly("head_vector_names", &HeadTable::head_vector_names)
      .def(
          "head_vector",
          [](const HeadTable& t, const std::string& name, int layer, int head) {
            std::vector<double> v = t.head_vector(name, layer, head);
            const int64_t n = int64_t(v.size());
            return owned_array(std::move(v), {n});
          },
          pyb::arg("name"), pyb::arg("layer"), pyb::arg("head"))
      .def(
          "to_json", [](const HeadTable& t) { return t.to_json().dump(1); },
          "The JSON `attnlab analyze --json` writes (NaN as null).")
      .def_static(
          "from_json",
          [](const std::string& text) {
            nlohmann::json j;
            try {
              j = nlohmann::json::parse(text);
            } catch (const nlohmann::json::exception& e) {
              throw Error(std::string("HeadTable JSON: ") + e.what());
            }
            return HeadTable::from_json(j);
          },
          pyb::arg("text"))
      .def("write_json", &HeadTable::write_json, pyb::arg("path"))
      .def("write_csv", &HeadTable::write_csv, pyb::arg("path"))
      .def(
          "format",
          [](const HeadTable& t, const std::vector<std::string>& columns) {
            std::ostringstream os;
            t.print(os, columns);
            return os.str();
          },
          pyb::arg("columns") = std::vector<std::string>{},
          "The text table `attnlab analyze` prints.")
      .def("__repr__", [](const HeadTable& t) {
        return "<attnlab.HeadTable " + std::to_string(t.n_layers()) + "x" +
               std::to_string(t.n_heads()) + ", " + std::to_string(t.metrics().size()) +
               " metrics, " + std::to_string(t.scalars().size()) + " scalars>";
      });

  m.def("_analyze", &analyze, pyb::arg("model"), pyb::arg("probe"), pyb::arg("prompt"),
        pyb::arg("ablate"), pyb::arg("ablate_mode"), pyb::arg("source"), pyb::arg("device"),
        pyb::arg("options"));
  m.def("default_columns", &exp::default_columns, pyb::arg("probe"), pyb::arg("table") = HeadTable(),
        "The columns `attnlab analyze` prints for a probe (\"prompt\" for a prompt; sparsity's come from its table).");
}

}  // namespace attnlab::py
