#pragma once
// One function per binding file; module.cpp calls them in order (errors first, so every later
// binding's attnlab::Error becomes attnlab.Error).
#include <pybind11/pybind11.h>

namespace attnlab::py {

namespace pyb = pybind11;

void bind_errors(pyb::module_& m);
void bind_model(pyb::module_& m);
void bind_cache(pyb::module_& m);
void bind_analysis(pyb::module_& m);
void bind_tasks(pyb::module_& m);
void bind_train(pyb::module_& m);
void bind_store(pyb::module_& m);
void bind_threads(pyb::module_& m);

}  // namespace attnlab::py
