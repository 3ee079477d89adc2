// attnlab.open_store: a study's results store (experiments/store/store.h) read as columns, which
// attnlab/store.py turns into pandas DataFrames.
#include <pybind11/stl.h>

#include <memory>
#include <utility>
#include <vector>

#include "analysis/head_table.h"
#include "core/tensor/error.h"
#include "experiments/store/query.h"
#include "experiments/store/store.h"
#include "python/arrays.h"
#include "python/bindings.h"

namespace attnlab::py {
namespace {

// Rows as a dict of named columns, the layout pandas.DataFrame(dict) takes.
template <class Row, class... Fields>
pyb::dict columns(const std::vector<Row>& rows, std::pair<const char*, Fields Row::*>... fields) {
  pyb::dict d;
  auto column = [&rows](auto member) {
    std::vector<std::decay_t<decltype(rows.front().*member)>> v;
    v.reserve(rows.size());
    for (const Row& r : rows) v.push_back(r.*member);
    return v;
  };
  ((d[fields.first] = column(fields.second)), ...);
  return d;
}

}  // namespace

void bind_store(pyb::module_& m) {
  using exp::Store;
  pyb::class_<Store, std::shared_ptr<Store>>(m, "_Store")
      .def(pyb::init([](const std::string& path) { return std::make_shared<Store>(path, true); }),
           pyb::arg("path"))
      .def_property_readonly("path", &Store::path)
      .def("runs",
           [](Store& s) {
             pyb::list
                 out;  // one dict per run: the store's columns plus the resolved config's fields
             for (const exp::RunRecord& r : s.runs()) {
               pyb::dict d;
               d["id"] = r.id;
               d["study"] = r.study;
               d["status"] = r.status;
               d["seed"] = r.seed;
               d["step"] = r.step;
               d["total_steps"] = r.total_steps;
               d["wall_s"] = r.wall_s;
               d["error"] = r.error;
               for (const auto& [k, v] : exp::run_fields(r))
                 if (!d.contains(k)) d[pyb::str(k)] = v;
               out.append(d);
             }
             return out;
           })
      .def(
          "scalars",
          [](Store& s, const std::string& run, const std::string& name) {
            return columns(s.scalars(run, name), std::pair{"run", &exp::ScalarRow::run},
                           std::pair{"step", &exp::ScalarRow::step}, std::pair{"name", &exp::ScalarRow::name},
                           std::pair{"value", &exp::ScalarRow::value});
          },
          pyb::arg("run"), pyb::arg("name") = "")
      .def(
          "head_metrics",
          [](Store& s, const std::string& run, const std::string& metric) {
            return columns(s.head_metrics(run, metric), std::pair{"run", &exp::HeadRow::run},
                           std::pair{"step", &exp::HeadRow::step}, std::pair{"layer", &exp::HeadRow::layer},
                           std::pair{"head", &exp::HeadRow::head}, std::pair{"metric", &exp::HeadRow::metric},
                           std::pair{"value", &exp::HeadRow::value});
          },
          pyb::arg("run"), pyb::arg("metric") = "")
      .def(
          "head_table",
          [](Store& s, const std::string& run, const std::string& probe) -> pyb::object {
            const std::string text = s.head_table(run, probe);
            if (text.empty())
              throw Error("run " + run + " has no final table for probe '" + probe + "'");
            nlohmann::json j = nlohmann::json::parse(text);
            // The analyzer probe stores a HeadTable; attn_stats a list of per-head rows.
            if (j.is_object() && j.contains("n_layers")) return pyb::cast(HeadTable::from_json(j));
            return json_to_py(text);
          },
          pyb::arg("run"), pyb::arg("probe"));
}

}  // namespace attnlab::py
