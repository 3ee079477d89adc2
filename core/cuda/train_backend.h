#pragma once
// Training on the GPU behind the Trainer's backend interface: a DeviceTransformer holds the
// weights, gradients and AdamW moments, so a step never leaves the device except for the loss
// and the gradient norm. The host Transformer is refreshed only on sync_to_host().
#include <memory>

#include "core/cuda/gemm.h"
#include "core/train/train_backend.h"

namespace attnlab::cuda {

// Throws attnlab::Error when no GPU is usable or the model has something the kernels lack.
std::unique_ptr<TrainBackend> make_cuda_train_backend(Transformer& model, const AdamWConfig& cfg,
                                                      Precision precision);

}  // namespace attnlab::cuda
