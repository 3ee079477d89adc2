#pragma once
// Resolving `--device`: header-only so the CLI can include it in builds with and without the
// CUDA backend (attnlab_cuda defines ATTNLAB_HAVE_CUDA for whoever links it).
#include <string>

#include "core/tensor/error.h"
#include "core/tensor/tensor.h"
#ifdef ATTNLAB_HAVE_CUDA
#include "core/cuda/runtime.h"
#endif

namespace attnlab::cuda {

// "cpu" or "cuda" ("gpu" is accepted as a synonym). Throws attnlab::Error saying why when
// cuda is asked for but this build or this machine cannot provide it.
inline Device resolve_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda" || name == "gpu") {
#ifdef ATTNLAB_HAVE_CUDA
    require_cuda("--device " + name);
    return Device::cuda;
#else
    throw Error("--device " + name +
                ": this build has no CUDA backend (nvcc was not found when it was configured); "
                "use --device cpu");
#endif
  }
  throw Error("--device: unknown device '" + name + "' (expected cpu or cuda)");
}

}  // namespace attnlab::cuda
