#include "core/cuda/cublas_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "core/tensor/error.h"

namespace attnlab::cuda {
namespace {

// Two levels, so that a name cuBLAS defines as a macro (cublasCreate -> cublasCreate_v2) is
// expanded before it becomes the symbol's string.
#define ATTNLAB_SYMBOL_NAME(x) ATTNLAB_SYMBOL_NAME2(x)
#define ATTNLAB_SYMBOL_NAME2(x) #x

std::string last_dl_error() {
  const char* e = dlerror();
  return e ? e : "not found";
}

template <class F>
void find(void* lib, const std::string& path, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  if (!out)
    throw Error("cuBLAS: '" + path + "' has no function " + name + " (" + last_dl_error() + ")");
}

CublasLibrary open_cublas() {
  const std::string path = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    throw Error("cannot load cuBLAS (" + path +
                ", from the CUDA toolkit the GPU backend was built with): " + last_dl_error());
  CublasLibrary c;
  find(lib, path, ATTNLAB_SYMBOL_NAME(cublasCreate), c.create);
  find(lib, path, ATTNLAB_SYMBOL_NAME(cublasDestroy), c.destroy);
  find(lib, path, ATTNLAB_SYMBOL_NAME(cublasSetStream), c.set_stream);
  find(lib, path, ATTNLAB_SYMBOL_NAME(cublasGemmEx), c.gemm_ex);
  find(lib, path, ATTNLAB_SYMBOL_NAME(cublasGemmStridedBatchedEx), c.gemm_strided_batched_ex);
  find(lib, path, ATTNLAB_SYMBOL_NAME(cublasGetStatusName), c.status_name);
  find(lib, path, ATTNLAB_SYMBOL_NAME(cublasGetStatusString), c.status_string);
  return c;  // the library stays open for the life of the process
}

}  // namespace

const CublasLibrary& cublas() {
  static std::once_flag once;
  static CublasLibrary lib;
  std::call_once(once, [] { lib = open_cublas(); });
  return lib;
}

}  // namespace attnlab::cuda
