#include "core/util/progress.h"

#include <unistd.h>

#include <cmath>

namespace attnlab {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  int64_t t = int64_t(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(t / 3600),
                  (long long)(t / 60 % 60), (long long)(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(t / 60), (long long)(t % 60));
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit, FILE* out)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      rate_unit_(unit_),
      total_(total),
      out_(out),
      tty_(isatty(fileno(out))),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

void ProgressBar::set_rate_scale(double units_per_step, std::string rate_unit) {
  std::lock_guard<std::mutex> lock(mu_);
  scale_ = units_per_step;
  rate_unit_ = std::move(rate_unit);
}

void ProgressBar::update(int64_t done, const std::string& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (start_done_ < 0) {  // a resumed job starts counting its rate from where it resumed
    start_done_ = done;
    start_ = std::chrono::steady_clock::now();
  }
  done_ = done;
  if (!status.empty()) status_ = status;
  auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
    last_draw_ = now;
    draw(false);
  } else {
    int pct = total_ > 0 ? int(100 * done_ / total_) : 0;
    if (pct / 5 != last_pct_printed_ / 5 || last_pct_printed_ < 0) {
      last_pct_printed_ = pct;
      draw(false);
    }
  }
}

void ProgressBar::finish(const std::string& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!status.empty()) status_ = status;
  finished_ = true;
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  int64_t counted = done_ - (start_done_ < 0 ? 0 : start_done_);
  double rate = elapsed > 0 ? counted / elapsed : 0.0;
  double eta = rate > 0 ? (total_ - done_) / rate : NAN;
  double frac = total_ > 0 ? double(done_) / total_ : 0.0;
  const int width = 24;
  int filled = int(frac * width + 0.5);
  std::string bar(size_t(filled), '#');
  bar.resize(width, '.');
  std::fprintf(out_, "%s%s [%s] %3d%% %lld/%lld %s | %.1f %s/s | %s elapsed, ETA %s%s%s",
               tty_ ? "\r\x1b[2K" : "", label_.c_str(), bar.c_str(), int(frac * 100 + 0.5),
               (long long)done_, (long long)total_, unit_.c_str(), rate * scale_,
               rate_unit_.c_str(), format_duration(elapsed).c_str(),
               final_line ? "0s" : format_duration(eta).c_str(), status_.empty() ? "" : " | ",
               status_.c_str());
  if (!tty_ || final_line) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace attnlab
