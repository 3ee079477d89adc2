#pragma once
// The training loop: AdamW with decoupled weight decay (none on norms and biases), linear
// warmup then cosine decay, global-norm gradient clipping, periodic evaluation, callbacks
// (analysis hooks metric logging here), and checkpoints that resume bit-identically.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model/transformer.h"
#include "core/train/adamw.h"
#include "core/train/batch.h"
#include "core/train/train_backend.h"

namespace attnlab {

struct TrainConfig {
  int64_t steps = 1000;
  int batch_size = 16;
  int seq_len = 0;            // 0: the model's context
  float lr = 3e-4f;
  float min_lr_ratio = 0.1f;  // cosine decays to lr * min_lr_ratio
  int64_t warmup = 100;
  float weight_decay = 0.1f;
  float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f;
  float grad_clip = 1.0f;     // <= 0: no clipping
  uint64_t seed = 0;
  int64_t eval_every = 100;   // 0: never
  int eval_batches = 4;
  int64_t checkpoint_every = 0;  // 0: only at the end (when a checkpoint path is set)
  std::string checkpoint_path;   // empty: no checkpoints
};

float lr_at_step(const TrainConfig& cfg, int64_t step);
AdamWConfig adamw_config(const TrainConfig& cfg);

struct StepInfo {
  int64_t step = 0;        // 1-based count of finished steps
  float loss = 0;
  float lr = 0;
  float grad_norm = 0;
  double tokens_per_s = 0;
};

struct EvalInfo {
  int64_t step = 0;
  float loss = 0;
};

class Trainer {
 public:
  // `train` and `eval` must outlive the trainer; eval may be null (no evaluation). `backend`
  // null: train on the CPU (make_cpu_train_backend); otherwise one made for this `model`.
  Trainer(Transformer& model, const TrainConfig& cfg, BatchSource& train, BatchSource* eval,
          std::unique_ptr<TrainBackend> backend = nullptr);

  // Runs from the current step to cfg.steps. A callback returning false stops training early
  // (the state stays consistent and a checkpoint is written if a path is set).
  std::function<bool(const StepInfo&)> on_step;
  std::function<void(const EvalInfo&)> on_eval;
  // Called by run() right before each checkpoint is written, with the step it will hold: what
  // the caller logs must reach the disk no later than the state it belongs to, or a crash after
  // the checkpoint loses those rows for good (a resume continues after them).
  std::function<void(int64_t step)> on_checkpoint;

  void run();
  // One optimizer step; returns its info.
  StepInfo step();
  float evaluate();

  int64_t current_step() const { return step_; }
  // The model with the latest weights (downloaded from a device backend when they changed):
  // what probes, task metrics and the saved model must read.
  Transformer& model();
  const TrainBackend& backend() const { return *backend_; }
  // Writes model, optimizer state, step and data position atomically.
  void save_checkpoint(const std::string& path);
  // Restores everything save_checkpoint wrote; training then continues bit-identically.
  void load_checkpoint(const std::string& path);

 private:
  void checkpoint();  // on_checkpoint, then save_checkpoint(cfg_.checkpoint_path)

  Transformer& model_;
  TrainConfig cfg_;
  BatchSource& train_;
  BatchSource* eval_;
  std::unique_ptr<TrainBackend> backend_;
  bool host_stale_ = false;  // the backend's weights moved since the last sync_to_host()
  Batch batch_;
  int64_t step_ = 0;
};

}  // namespace attnlab
