#pragma once
// Where a Trainer's arithmetic runs. The CPU backend is the reference: it trains the
// Transformer in place. A device backend (core/cuda/train_backend.h) trains its own copy of the
// weights and writes them back into the Transformer on sync_to_host(), so checkpoints, probes
// and the saved model always come from the one host-side Transformer.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/model/transformer.h"
#include "core/train/adamw.h"
#include "core/train/batch.h"

namespace attnlab {

class TrainBackend {
 public:
  virtual ~TrainBackend() = default;
  // What the run is on, for logs: "cpu", "cuda: NVIDIA H100 ... (tf32)".
  virtual std::string describe() const = 0;

  // The same contract as Transformer::forward_loss / backward / zero_grad and AdamW.
  virtual float forward_loss(const Batch& batch) = 0;
  virtual void backward() = 0;
  virtual void zero_grad() = 0;
  virtual float clip_grad_norm(float max_norm) = 0;
  virtual void adamw_step(float lr) = 0;

  // Optimizer state named as AdamW::state() names it, so a checkpoint resumes on either device.
  virtual std::map<std::string, Tensor> optimizer_state() const = 0;
  virtual int64_t optimizer_step() const = 0;
  // The Transformer's weights were just replaced (a resume): take them, and this optimizer state.
  virtual void load_state(const std::map<std::string, Tensor>& optimizer_state, int64_t t) = 0;
  // Makes the Transformer's weights equal the backend's (nothing to do on the CPU).
  virtual void sync_to_host() = 0;
};

std::unique_ptr<TrainBackend> make_cpu_train_backend(Transformer& model, const AdamWConfig& cfg);

}  // namespace attnlab
