#pragma once
// Which attention specs the fused kernels run (plain C++, part of attnlab_cuda_host).
#include <string>
#include <vector>

#include "core/model/config.h"

namespace attnlab::cuda {

// Window and sink settings of a layer's attention spec; throws attnlab::Error naming the spec
// when the fused kernels cannot run it (host-side, tested on the CPU).
struct GpuAttentionSpec {
  int window = 0, sinks = 0;
  bool alibi = false;  // "alibi" instead of "softmax": the kernels add ALiBi's head-slope bias
};
GpuAttentionSpec gpu_attention_spec(const std::string& spec);

// The weights the GPU model reads for `cfg` (Transformer parameter naming), without the optional
// biases and the attention-variant parameters; the CPU suite checks them against Transformer.
std::vector<std::string> required_weight_names(const ModelConfig& cfg);
// Every weight the GPU model reads for `cfg`: the required ones plus the biases the config
// has. Besides attn.variant.*, DeviceTransformer refuses any weight outside this list.
std::vector<std::string> known_weight_names(const ModelConfig& cfg);

}  // namespace attnlab::cuda
