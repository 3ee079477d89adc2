// attnlab::Error -> attnlab.Error with the same message. attnlab throws it for bad input (a file,
// a spec, an option, token ids), so it subclasses ValueError.
#include "core/tensor/error.h"
#include "python/bindings.h"

namespace attnlab::py {

void bind_errors(pyb::module_& m) { pyb::register_exception<Error>(m, "Error", PyExc_ValueError); }

}  // namespace attnlab::py
