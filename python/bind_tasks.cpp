// attnlab.variants(), attnlab.tasks() and attnlab.task(spec): the registries `attnlab variants`,
// `attnlab tasks` and `attnlab sample` print, with batches as NumPy arrays.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>

#include "core/attention/attention.h"
#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "datasets/task_sample.h"
#include "python/arrays.h"
#include "python/bindings.h"

namespace attnlab::py {

namespace {

pyb::object span(const Span& s) {
  if (s.empty()) return pyb::none();
  return pyb::make_tuple(s.begin, s.end);
}

pyb::dict batch_dict(Task& task, int64_t index) {
  if (index < 0) throw Error("batch index must be >= 0");
  Batch b;
  {
    pyb::gil_scoped_release nogil;
    task.seek(index);
    task.next(b);
  }
  pyb::dict d;
  const int64_t B = b.B, T = b.T;
  if (b.in_dim > 0) {
    d["features"] = owned_array(std::move(b.features), {B, T, int64_t(b.in_dim)});
    d["targets"] = owned_array(std::move(b.float_targets), {B, T});
  } else {
    d["tokens"] = owned_array(std::move(b.tokens), {B, T});
    d["targets"] = owned_array(std::move(b.targets), {B, T});
  }
  d["mask"] = owned_array(std::move(b.mask), {B, T});
  pyb::list
      meta;  // what each row holds (datasets/task.h SampleMeta): the positions a metric scores
  for (const SampleMeta& s : task.meta()) {
    pyb::dict r;
    r["query_positions"] = s.query_positions;
    r["trigger_positions"] = s.trigger_positions;
    r["needle"] = span(s.needle);
    r["needle_value"] = span(s.needle_value);
    r["context"] = span(s.context);
    if (s.depth >= 0) r["depth"] = s.depth;
    meta.append(r);
  }
  d["meta"] = meta;
  return d;
}

}  // namespace

void bind_tasks(pyb::module_& m) {
  m.def(
      "variants",
      [] {
        pyb::list out;
        for (const VariantInfo& v : attention_variants()) {
          pyb::dict d;
          d["name"] = v.name;
          d["summary"] = v.summary;
          d["params"] = v.params_help;
          d["examples"] = v.test_specs;
          out.append(d);
        }
        return out;
      },
      "Every attention variant (`attnlab variants`): name, summary, params, example specs.");
  m.def(
      "tasks",
      [] {
        pyb::list out;
        for (const TaskInfo& t : task_catalog()) {
          pyb::list params;
          for (const TaskParamInfo& p : t.params) {
            pyb::dict pd;
            pd["name"] = p.name;
            pd["default"] = p.default_value;
            pd["help"] = p.help;
            params.append(pd);
          }
          pyb::dict d;
          d["name"] = t.name;
          d["summary"] = t.summary;
          d["params"] = params;
          out.append(d);
        }
        return out;
      },
      "Every synthetic task and corpus (`attnlab tasks`) with its parameters and defaults.");

  pyb::class_<Task, std::shared_ptr<Task>>(m, "Task", "A task or corpus stream (attnlab.task).")
      .def_property_readonly("name", &Task::name)
      .def_property_readonly("vocab_size", &Task::vocab_size)
      .def_property_readonly("batch_size", &Task::batch_size)
      .def_property_readonly("seq_len", &Task::seq_len)
      .def_property_readonly("bos_token", &Task::bos_token)
      .def("describe", &Task::describe)
      .def("batch", &batch_dict, pyb::arg("index") = 0,
           "Batch `index` of the stream as NumPy arrays: tokens/targets int32 [B, T] (features "
           "float32 [B, T, "
           "in_dim] and float targets for regression), mask float32 [B, T], and per-row meta.")
      .def(
          "token_text", [](const Task& t, int id) { return lossy_str(t.token_text(id)); },
          pyb::arg("id"))
      .def(
          "render",
          [](Task& t, int64_t index, int row) {
            if (index < 0) throw Error("batch index must be >= 0");
            t.seek(index);
            Batch b;
            t.next(b);
            if (row < 0 || row >= b.B)
              throw Error("row " + std::to_string(row) + " is outside the batch (0.." +
                          std::to_string(b.B - 1) + ")");
            return lossy_str(render_sample(t, b, row));
          },
          pyb::arg("index") = 0, pyb::arg("row") = 0,
          "One sequence as `attnlab sample` prints it.");

  m.def(
      "task",
      [](const std::string& spec, const pyb::kwargs& params) {
        std::map<std::string, std::string> overrides;
        for (const auto& [k, v] : params)  // as a spec writes them: len=64, flag=true
          overrides[k.cast<std::string>()] = pyb::isinstance<pyb::bool_>(v)
                                                 ? (v.cast<bool>() ? "true" : "false")
                                                 : pyb::str(v).cast<std::string>();
        return std::shared_ptr<Task>(make_task(spec, overrides));
      },
      pyb::arg("spec"),
      "A task from its spec, e.g. task(\"mqar(vocab=256,len=64)\") or task(\"mqar\", len=64, "
      "seed=1); keyword "
      "arguments override the spec's parameters as `attnlab sample --param` does.");
}

}  // namespace attnlab::py
