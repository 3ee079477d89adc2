#include "gui/train_session.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QPointer>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/tensor/error.h"
#include "core/train/trainer.h"
#include "experiments/device/train_device.h"
#include "experiments/spec/task_bridge.h"
#include "experiments/store/store.h"
#include "experiments/training_vocab.h"
#include "gui/attention_capture.h"
#include "gui/head_metrics.h"

namespace attnlab::gui {

TrainSession::TrainSession(TrainRequest req, QObject* parent) : QObject(parent), req_(std::move(req)) {
  run_id_ = "gui-" + QDateTime::currentDateTimeUtc().toString("yyyyMMdd-HHmmss-zzz").toStdString();
}

TrainSession::~TrainSession() {
  stop();
  if (thread_) thread_->wait();
}

void TrainSession::start() {
  if (thread_) return;
  thread_ = QThread::create([this] { body(); });
  connect(thread_, &QThread::finished, this, [this] {
    thread_->deleteLater();
    thread_ = nullptr;
  });
  thread_->start();
}

void TrainSession::set_paused(bool paused) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = paused;
  }
  cv_.notify_all();
}

void TrainSession::stop() {
  stop_ = true;
  set_paused(false);
}

bool TrainSession::wait(int timeout_ms) {
  QDeadlineTimer deadline(timeout_ms);
  while (thread_) {
    if (deadline.hasExpired()) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    QThread::msleep(1);
  }
  QCoreApplication::processEvents();
  return true;
}

void TrainSession::body() {
  QString status = "done", error, checkpoint;
  try {
    const nlohmann::json task_json = {{"name", req_.task}};
    auto train_task = exp::make_study_task(task_json, req_.seed, req_.batch, req_.seq_len);
    auto probe_task = exp::make_study_task(task_json, req_.seed + 2000003, 1, req_.seq_len);
    ModelConfig mc = preset_config(req_.size);
    mc.vocab_size = train_task->vocab_size();
    adopt_task_bos(mc, *train_task);
    mc.context = req_.seq_len;
    mc.attention = {req_.attention};
    mc.validate();
    TrainConfig tc;
    tc.steps = req_.steps;
    tc.batch_size = req_.batch;
    tc.seq_len = req_.seq_len;
    tc.lr = req_.lr;
    tc.warmup = std::max<int64_t>(1, req_.steps / 10);
    tc.seed = req_.seed;
    tc.eval_every = 0;
    auto model = std::make_shared<Transformer>(mc);
    model->init_weights(req_.seed);
    Batch probe;
    probe_task->next(probe);
    const std::vector<int32_t> probe_tokens(probe.tokens.begin(), probe.tokens.begin() + probe.T);

    std::unique_ptr<exp::Store> store;
    nlohmann::json mjson;
    to_json(mjson, mc);
    if (!req_.store.empty()) {
      const auto dir = std::filesystem::path(req_.store).parent_path();
      if (!dir.empty()) std::filesystem::create_directories(dir);
      store = std::make_unique<exp::Store>(req_.store);
      exp::RunRecord r;
      r.id = run_id_;
      r.study = "gui";
      r.status = "pending";
      r.seed = req_.seed;
      r.total_steps = req_.steps;
      r.created_at = exp::now_seconds();
      r.config = {{"model", mjson},
                  {"task", task_json},
                  {"seed", req_.seed},
                  {"train", {{"steps", req_.steps}, {"batch_size", req_.batch}, {"seq_len", req_.seq_len}, {"lr", req_.lr}}}};
      store->add_run_if_missing(r);
      checkpoint = QString::fromStdString((dir / (run_id_ + ".safetensors")).string());
      store->mark_started(run_id_, "localhost", "", checkpoint.toStdString());
    }
    const double t0 = exp::now_seconds();

    std::vector<exp::ScalarRow> scalars;
    QPointer<TrainSession> self(this);
    auto probe_heads = [&](int64_t step) {
      auto run = CapturedForward::run(model, probe_tokens);
      MetricGrid g = compute_metric_grid(*run);
      const int sink = g.index_of("sink score α₁");
      std::vector<double> values = g.values[std::max(0, sink)];
      std::vector<exp::HeadRow> rows;
      for (int l = 0; l < g.n_layers; ++l)
        for (int h = 0; h < g.n_heads; ++h)
          rows.push_back({run_id_, step, l, h, "sink_alpha1", values[size_t(l) * g.n_heads + h]});
      if (store) store->write_progress(run_id_, step, scalars, rows);
      scalars.clear();
      const int L = g.n_layers, H = g.n_heads;
      double induction = std::nan("");
      if (const int ind = g.index_of("induction (prefix matching)"); ind >= 0)
        for (double v : g.values[size_t(ind)])
          if (std::isfinite(v)) induction = std::isfinite(induction) ? std::max(induction, v) : v;
      double accuracy = std::nan("");
      if (probe.in_dim == 0) {
        const Tensor& logits = model->forward(probe.tokens.data(), probe.B, probe.T);
        for (const TaskMetric& m : probe_task->score_rows(probe, probe_task->meta(), logits))
          if (m.name.find("accuracy") != std::string::npos && m.count > 0) {
            accuracy = m.value;
            break;
          }
      }
      QMetaObject::invokeMethod(
          this,
          [self, step, values, L, H, induction, accuracy] {
            if (self) {
              emit self->probe_done(step, values, L, H);
              emit self->scores_done(step, induction, accuracy);
            }
          },
          Qt::QueuedConnection);
    };
    probe_heads(0);
    Trainer trainer(*model, tc, *train_task, nullptr, exp::make_train_backend({req_.device, "fp32"}, *model, tc));
    trainer.on_step = [&](const StepInfo& si) {
      scalars.push_back({run_id_, si.step, "loss", si.loss});
      const int64_t step = si.step;
      const double loss = si.loss;
      QMetaObject::invokeMethod(this, [self, step, loss] {
        if (self) emit self->step_done(step, loss);
      }, Qt::QueuedConnection);
      if (si.step % std::max(1, req_.probe_every) == 0 || si.step == req_.steps) {
        trainer.model();  // a GPU backend's weights are copied into *model here
        probe_heads(si.step);
      }
      std::unique_lock<std::mutex> lock(mu_);
      waiting_ = paused_;
      cv_.wait(lock, [&] { return !paused_ || stop_.load(); });
      waiting_ = false;
      return !stop_.load();
    };
    trainer.run();
    if (stop_) status = "stopped";
    if (store) {
      if (!scalars.empty()) store->write_progress(run_id_, trainer.current_step(), scalars, {});
      CheckpointExtras extras;
      extras.metadata = training_vocab_metadata(*train_task);
      save_checkpoint(checkpoint.toStdString(), trainer.model(), extras);
      store->put_artifact(run_id_, "checkpoint", checkpoint.toStdString());
      store->mark_finished(run_id_, status == "done" ? "done" : "interrupted", exp::now_seconds() - t0);
    }
  } catch (const std::exception& e) {
    status = "failed";
    error = QString::fromStdString(e.what());
    checkpoint.clear();
  }
  QPointer<TrainSession> self(this);
  QMetaObject::invokeMethod(this, [self, status, error, checkpoint] {
    if (self) emit self->finished(status, error, checkpoint);
  }, Qt::QueuedConnection);
}

}  // namespace attnlab::gui
