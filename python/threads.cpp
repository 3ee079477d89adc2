// attnlab.set_num_threads / get_num_threads: the OpenMP threads every CPU kernel uses (the same
// knob as OMP_NUM_THREADS, settable after import).
#include <omp.h>

#include "core/tensor/error.h"
#include "python/bindings.h"

namespace attnlab::py {

void bind_threads(pyb::module_& m) {
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw Error("set_num_threads: " + std::to_string(n) + " is not >= 1");
        omp_set_num_threads(n);
      },
      pyb::arg("n"));
  m.def("get_num_threads", [] { return omp_get_max_threads(); });
}

}  // namespace attnlab::py
