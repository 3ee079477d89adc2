#include "experiments/device/train_device.h"

#include "core/cuda/select.h"
#include "core/tensor/error.h"
#ifdef ATTNLAB_HAVE_CUDA
#include "core/cuda/train_backend.h"
#endif

namespace attnlab::exp {

namespace {

bool is_cuda(const ComputeOptions& opt) {
  if (opt.device == "cpu") return false;
  if (opt.device == "cuda" || opt.device == "gpu") return true;
  throw Error("--device: unknown device '" + opt.device + "' (expected cpu or cuda)");
}

}  // namespace

void validate_compute(const ComputeOptions& opt) {
  if (opt.precision != "fp32" && opt.precision != "tf32" && opt.precision != "bf16")
    throw Error("--precision: unknown precision '" + opt.precision + "' (expected fp32, tf32 or bf16)");
  if (!is_cuda(opt) && opt.precision != "fp32")
    throw Error("--precision " + opt.precision + " needs --device cuda (the CPU backend computes in fp32)");
}

void check_compute(const ComputeOptions& opt) {
  validate_compute(opt);
  if (is_cuda(opt)) cuda::resolve_device(opt.device);
}

std::vector<std::string> compute_flags(const ComputeOptions& opt) {
  return {"--device", opt.device, "--precision", opt.precision};
}

std::unique_ptr<TrainBackend> make_train_backend(const ComputeOptions& opt, Transformer& model,
                                                 const TrainConfig& tc) {
  check_compute(opt);
  if (!is_cuda(opt)) return make_cpu_train_backend(model, adamw_config(tc));
#ifdef ATTNLAB_HAVE_CUDA
  const cuda::Precision p = opt.precision == "tf32"   ? cuda::Precision::tf32
                            : opt.precision == "bf16" ? cuda::Precision::bf16
                                                      : cuda::Precision::fp32;
  return cuda::make_cuda_train_backend(model, adamw_config(tc), p);
#else
  throw Error("unreachable: resolve_device accepted cuda in a build without it");
#endif
}

}  // namespace attnlab::exp
