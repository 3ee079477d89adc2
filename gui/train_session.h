#pragma once
// One training run started from the GUI: a small model on a task, trained on a worker thread
// with pause and stop, reporting the loss every step and the sink score alpha_1 of every head
// on a fixed probe sequence every few steps, with the best induction score and the task's
// accuracy on that probe. With a store path the run lands in the results
// store (record, scalars, per-head metrics, checkpoint) like a sweep run does.
#include <QObject>
#include <QThread>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace attnlab::gui {

struct TrainRequest {
  std::string task = "bigram_backcopy";
  std::string attention = "softmax";
  std::string size = "tiny";  // preset_config name
  std::string device = "cpu";  // cpu | cuda (experiments/device/train_device.h)
  int steps = 200, batch = 8, seq_len = 64, probe_every = 20;
  float lr = 3e-3f;
  uint64_t seed = 0;
  std::string store;     // empty: not stored
};

class TrainSession : public QObject {
  Q_OBJECT
 public:
  explicit TrainSession(TrainRequest req, QObject* parent = nullptr);
  ~TrainSession() override;

  void start();
  void set_paused(bool paused);
  void stop();
  bool running() const { return thread_ != nullptr; }
  // True while the worker sits paused between two steps.
  bool waiting() const { return waiting_.load(); }
  bool wait(int timeout_ms = 60000);  // for tests: processes events until the run ends
  const TrainRequest& request() const { return req_; }
  const std::string& run_id() const { return run_id_; }

 signals:
  void step_done(qint64 step, double loss);
  // alpha_1 of every head, layer-major.
  void probe_done(qint64 step, const std::vector<double>& sink, int n_layers, int n_heads);
  // On the same probe: the best head's induction score (prefix matching; NaN when the probe has
  // no repeated token) and the task's accuracy on the probe batch (NaN for a task without one).
  void scores_done(qint64 step, double induction, double accuracy);
  // status: "done" | "stopped" | "failed"; error set when failed; checkpoint written (or "").
  void finished(const QString& status, const QString& error, const QString& checkpoint);

 private:
  void body();
  TrainRequest req_;
  std::string run_id_;
  QThread* thread_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<bool> waiting_{false};
  bool paused_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace attnlab::gui
