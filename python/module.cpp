// The compiled half of the `attnlab` Python package (python/attnlab/__init__.py re-exports it).
#include <pybind11/pybind11.h>

#include "python/bindings.h"

PYBIND11_MODULE(_attnlab, m) {
  m.doc() = "attnlab: thin bindings over the C++ workbench (docs/python.md)";
  using namespace attnlab::py;
  bind_errors(m);
  bind_model(m);
  bind_cache(m);
  bind_analysis(m);
  bind_tasks(m);
  bind_train(m);
  bind_store(m);
  bind_threads(m);
}
