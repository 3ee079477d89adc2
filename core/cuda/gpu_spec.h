#pragma once
// Which attention specs the fused kernels run (plain C++, part of attnlab_cuda_host).
#include <string>

namespace attnlab::cuda {

// Window and sink settings of a layer's attention spec; throws attnlab::Error naming the spec
// when the fused kernels cannot run it (host-side, tested on the CPU).
struct GpuAttentionSpec {
  int window = 0, sinks = 0;
};
GpuAttentionSpec gpu_attention_spec(const std::string& spec);

}  // namespace attnlab::cuda
