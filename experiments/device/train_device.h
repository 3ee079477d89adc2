#pragma once
// `--device cpu|cuda` and `--precision fp32|tf32|bf16` for training (`attnlab train`, sweep
// workers): the backend a Trainer runs on. CUDA-free, so it compiles in builds without nvcc.
#include <memory>
#include <string>
#include <vector>

#include "core/train/train_backend.h"
#include "core/train/trainer.h"

namespace attnlab::exp {

struct ComputeOptions {
  std::string device = "cpu";      // cpu | cuda (gpu is a synonym)
  std::string precision = "fp32";  // GEMM inputs on the GPU: fp32, tf32 or bf16 (fp32 accumulate)
};

// Throws attnlab::Error when a name is unknown or a reduced precision is asked of the CPU.
// Checks nothing about this machine: a Slurm submit from a login node without a GPU uses it.
void validate_compute(const ComputeOptions& opt);
// validate_compute, then also throws, saying why, when this build has no CUDA backend or this
// machine has no usable GPU.
void check_compute(const ComputeOptions& opt);
// The worker's command-line flags for these options ("--device", d, "--precision", p).
std::vector<std::string> compute_flags(const ComputeOptions& opt);

// The backend for training `model` with `tc`'s optimizer settings (check_compute first).
std::unique_ptr<TrainBackend> make_train_backend(const ComputeOptions& opt, Transformer& model,
                                                 const TrainConfig& tc);

}  // namespace attnlab::exp
