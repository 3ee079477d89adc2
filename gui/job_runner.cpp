#include "gui/job_runner.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QPointer>

#include "core/tensor/error.h"
#include "gui/attention_capture.h"

namespace attnlab::gui {

JobRunner::JobRunner(QObject* parent) : QObject(parent) {}

JobRunner::~JobRunner() {
  pending_.reset();
  if (thread_) {
    control_->cancel = true;
    thread_->wait();
  }
}

void JobRunner::submit(const QString& label, Work work, Done done) {
  auto job = std::make_unique<Job>(Job{label, std::move(work), std::move(done)});
  if (running_) {
    control_->cancel = true;
    pending_ = std::move(job);
    return;
  }
  start(std::move(job));
}

void JobRunner::cancel() {
  pending_.reset();
  if (control_) control_->cancel = true;
}

void JobRunner::start(std::unique_ptr<Job> job) {
  running_ = std::move(job);
  control_ = std::make_shared<JobControl>();
  QPointer<JobRunner> self(this);
  control_->progress = [self](double f) {
    QMetaObject::invokeMethod(
        self.data(), [self, f] { if (self) emit self->progress(f); }, Qt::QueuedConnection);
  };
  auto control = control_;
  Work work = running_->work;
  thread_ = QThread::create([self, control, work] {
    QString error;
    bool cancelled = false;
    try {
      work(*control);
    } catch (const Cancelled&) {
      cancelled = true;
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    } catch (...) {
      error = "unexpected failure";
    }
    if (control->cancel) cancelled = true;
    QMetaObject::invokeMethod(
        self.data(), [self, error, cancelled] { if (self) self->finished(error, cancelled); },
        Qt::QueuedConnection);
  });
  emit started(running_->label);
  thread_->start();
}

void JobRunner::finished(const QString& error, bool cancelled) {
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  std::unique_ptr<Job> job = std::move(running_);
  control_.reset();
  if (job->done) job->done(error, cancelled);
  if (pending_) {
    start(std::move(pending_));
  } else {
    emit idle();
  }
}

bool JobRunner::wait_idle(int timeout_ms) {
  QDeadlineTimer deadline(timeout_ms);
  while (running_ || pending_) {
    if (deadline.hasExpired()) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    QThread::msleep(1);
  }
  QCoreApplication::processEvents();
  return true;
}

}  // namespace attnlab::gui
