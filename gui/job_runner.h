#pragma once
// Runs model work off the UI thread, one job at a time, with progress and cancel. A job
// submitted while another runs cancels it and waits its turn (the newest request wins), so
// typing a prompt never queues a backlog of stale forward passes.
#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <functional>
#include <memory>

namespace attnlab::gui {

struct JobControl {
  std::atomic<bool> cancel{false};
  std::function<void(double)> progress;  // fraction 0..1, callable from the worker
};

class JobRunner : public QObject {
  Q_OBJECT
 public:
  // `work` runs on a worker thread and may throw (attnlab::Error, Cancelled, anything);
  // `done` then runs on the UI thread with the error text ("" on success) and whether it
  // was cancelled.
  using Work = std::function<void(JobControl&)>;
  using Done = std::function<void(const QString& error, bool cancelled)>;

  explicit JobRunner(QObject* parent = nullptr);
  ~JobRunner() override;

  void submit(const QString& label, Work work, Done done);
  void cancel();
  bool busy() const { return running_ != nullptr; }
  // Blocks (processing events) until no job runs or is queued; false on timeout. For tests.
  bool wait_idle(int timeout_ms = 30000);

 signals:
  void started(const QString& label);
  void progress(double fraction);
  void idle();

 private:
  struct Job {
    QString label;
    Work work;
    Done done;
  };
  void start(std::unique_ptr<Job> job);
  void finished(const QString& error, bool cancelled);

  std::unique_ptr<Job> running_, pending_;
  std::shared_ptr<JobControl> control_;
  QThread* thread_ = nullptr;
};

}  // namespace attnlab::gui
