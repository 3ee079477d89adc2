#include "core/train/trainer.h"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/io/checkpoint.h"
#include "core/tensor/error.h"
#include "core/util/json_input.h"

namespace attnlab {

float lr_at_step(const TrainConfig& cfg, int64_t step) {
  if (step < cfg.warmup) return cfg.lr * float(step + 1) / float(cfg.warmup);
  int64_t decay_steps = std::max<int64_t>(1, cfg.steps - cfg.warmup);
  double progress = std::min(1.0, double(step - cfg.warmup) / double(decay_steps));
  double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  double min_lr = cfg.lr * cfg.min_lr_ratio;
  return float(min_lr + (cfg.lr - min_lr) * cosine);
}

AdamWConfig adamw_config(const TrainConfig& c) {
  return {c.beta1, c.beta2, c.eps, c.weight_decay};
}

static void validate(const TrainConfig& c, const ModelConfig& m) {
  if (c.steps < 0) throw Error("train config: steps must be >= 0");
  if (c.batch_size <= 0) throw Error("train config: batch_size must be positive");
  if (c.seq_len < 0 || c.seq_len > m.context)
    throw Error("train config: seq_len " + std::to_string(c.seq_len) +
                " must be between 1 and the model's context (" + std::to_string(m.context) + ")");
  if (!(c.lr > 0)) throw Error("train config: lr must be positive");
  if (c.warmup < 0) throw Error("train config: warmup must be >= 0");
}

Trainer::Trainer(Transformer& model, const TrainConfig& cfg, BatchSource& train, BatchSource* eval,
                 std::unique_ptr<TrainBackend> backend)
    : model_(model), cfg_(cfg), train_(train), eval_(eval), backend_(std::move(backend)) {
  if (!backend_) backend_ = make_cpu_train_backend(model_, adamw_config(cfg_));
  validate(cfg_, model.config());
  if (train_.vocab_size() > model.config().vocab_size)
    throw Error("the task's vocabulary (" + std::to_string(train_.vocab_size()) +
                " tokens) is larger than the model's (" +
                std::to_string(model.config().vocab_size) + ")");
  train_.seek(0);
}

StepInfo Trainer::step() {
  auto t0 = std::chrono::steady_clock::now();
  train_.next(batch_);
  backend_->zero_grad();
  StepInfo info;
  info.loss = backend_->forward_loss(batch_);
  if (!std::isfinite(info.loss))
    throw Error("training diverged: loss is " + std::to_string(info.loss) + " at step " +
                std::to_string(step_ + 1) + " (lower the learning rate)");
  backend_->backward();
  info.grad_norm = backend_->clip_grad_norm(cfg_.grad_clip);
  info.lr = lr_at_step(cfg_, step_);
  backend_->adamw_step(info.lr);
  host_stale_ = true;
  ++step_;
  info.step = step_;
  double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  info.tokens_per_s = dt > 0 ? double(batch_.B) * batch_.T / dt : 0;
  return info;
}

float Trainer::evaluate() {
  if (!eval_) throw Error("evaluate(): no evaluation data was given");
  eval_->seek(0);  // the same batches every time, so eval losses are comparable across steps
  Batch b;
  double sum = 0;
  for (int i = 0; i < cfg_.eval_batches; ++i) {
    eval_->next(b);
    sum += backend_->forward_loss(b);
  }
  return float(sum / std::max(1, cfg_.eval_batches));
}

void Trainer::run() {
  while (step_ < cfg_.steps) {
    StepInfo info = step();
    bool keep_going = on_step ? on_step(info) : true;
    if (eval_ && cfg_.eval_every > 0 && (step_ % cfg_.eval_every == 0 || step_ == cfg_.steps)) {
      EvalInfo e{step_, evaluate()};
      if (on_eval) on_eval(e);
    }
    if (!cfg_.checkpoint_path.empty() && cfg_.checkpoint_every > 0 &&
        step_ % cfg_.checkpoint_every == 0)
      checkpoint();
    if (!keep_going) break;
  }
  if (!cfg_.checkpoint_path.empty()) checkpoint();
  model();  // the caller reads the trained weights from the Transformer
}

Transformer& Trainer::model() {
  if (host_stale_) backend_->sync_to_host();
  host_stale_ = false;
  return model_;
}

void Trainer::checkpoint() {
  if (on_checkpoint) on_checkpoint(step_);
  save_checkpoint(cfg_.checkpoint_path);
}

void Trainer::save_checkpoint(const std::string& path) {
  CheckpointExtras extras;
  extras.tensors = backend_->optimizer_state();
  extras.metadata["attnlab.train"] =
      nlohmann::json{{"step", step_}, {"adam_t", backend_->optimizer_step()}, {"data", train_.describe()}}.dump();
  ::attnlab::save_checkpoint(path, model(), extras);
}

void Trainer::load_checkpoint(const std::string& path) {
  LoadedAttnlabCheckpoint ck = load_attnlab_checkpoint(path);
  auto it = ck.extras.metadata.find("attnlab.train");
  if (it == ck.extras.metadata.end())
    throw Error(path + ": holds model weights only, no training state to resume from");
  const std::string where = path + ": attnlab.train";
  nlohmann::json st;
  try {
    st = parse_json_bounded(it->second, where);
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + " is not valid JSON: " + e.what());
  }
  auto counter = [&](const char* key) {
    if (!st.is_object() || !st.contains(key)) throw Error(where + ": missing '" + key + "'");
    return json_get<int64_t>(st[key], key, where);
  };
  const int64_t adam_t = counter("adam_t"), step = counter("step");
  if (nlohmann::json(ck.model->config()) != nlohmann::json(model_.config()))
    throw Error(path + ": the checkpoint's model config differs from this run's");
  model_.load_weights(ck.model->weights());
  backend_->load_state(ck.extras.tensors, adam_t);
  host_stale_ = false;
  step_ = step;
  train_.seek(step_);
}

}  // namespace attnlab
