#include "core/cuda/gpu_spec.h"

#include "core/attention/spec.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

GpuAttentionSpec gpu_attention_spec(const std::string& spec) {
  GpuAttentionSpec out;
  bool window_seen = false;
  for (const SpecTerm& term : parse_spec(spec)) {
    SpecArgs args("attention '" + spec + "'", term.args);
    if (term.name == "softmax") {
      args.finish();
    } else if (term.name == "window" && !window_seen) {
      out.window = args.require_int("size", 1, 1 << 30);
      out.sinks = args.get_int("sinks", 0, 0, 1 << 30);
      args.finish();
      window_seen = true;
    } else {
      throw Error("no fused CUDA kernel for attention '" + spec + "' (term '" + term.name +
                  "'): the kernels run softmax with an optional window(size, sinks)");
    }
  }
  return out;
}

}  // namespace attnlab::cuda
