#pragma once
// cuBLAS, opened on first use (dlopen) rather than linked. Linking it would load libcublas and
// its 540 MB libcublasLt into every attnlab process and every `import attnlab`, GPU or not
// (0.3-0.4 s each); a CPU run never touches them now.
#include <cublas_v2.h>

namespace attnlab::cuda {

// The C functions' types (C++ adds overloads of the GEMMs, so decltype cannot name them).
using CublasGemmEx = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int,
                                        int, const void*, const void*, cudaDataType, int, const void*,
                                        cudaDataType, int, const void*, void*, cudaDataType, int,
                                        cublasComputeType_t, cublasGemmAlgo_t);
using CublasGemmStridedBatchedEx = cublasStatus_t (*)(
    cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*,
    cudaDataType, int, long long int, const void*, cudaDataType, int, long long int, const void*, void*,
    cudaDataType, int, long long int, int, cublasComputeType_t, cublasGemmAlgo_t);

struct CublasLibrary {
  decltype(&::cublasCreate) create = nullptr;
  decltype(&::cublasDestroy) destroy = nullptr;
  decltype(&::cublasSetStream) set_stream = nullptr;
  CublasGemmEx gemm_ex = nullptr;
  CublasGemmStridedBatchedEx gemm_strided_batched_ex = nullptr;
  decltype(&::cublasGetStatusName) status_name = nullptr;
  decltype(&::cublasGetStatusString) status_string = nullptr;
};

// Opens libcublas.so.<major of the headers> once. Throws attnlab::Error naming the library and
// dlerror() when it or one of its functions cannot be found.
const CublasLibrary& cublas();

}  // namespace attnlab::cuda
