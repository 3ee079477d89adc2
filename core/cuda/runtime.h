#pragma once
// Finding a usable GPU. Every query here is safe on a machine with no driver or no GPU: it
// answers false / throws attnlab::Error, never crashes.
#include <string>

namespace attnlab::cuda {

// True when the CUDA runtime finds at least one device this binary can run on.
bool cuda_available();
// Why cuda_available() is false ("no CUDA driver (...)", "no CUDA device"), or "" when true.
std::string cuda_unavailable_reason();
// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB, driver 13.0, runtime 13.0)"; throws when unavailable.
std::string device_description(int device = 0);
// Throws attnlab::Error("<what> needs a CUDA GPU, but ...") when cuda_available() is false.
void require_cuda(const std::string& what);

}  // namespace attnlab::cuda
