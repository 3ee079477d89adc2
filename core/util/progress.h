#pragma once
// A terminal progress bar with rate and ETA, for every long CLI job. It redraws in place on a
// TTY and prints a line every ~5% otherwise (logs, CI). Thread-safe: workers may call update().
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace attnlab {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, std::string unit = "it", FILE* out = stderr);
  ~ProgressBar();
  // Sets the absolute progress and an optional status text (e.g. "loss 2.31").
  void update(int64_t done, const std::string& status = "");
  // Rate unit counts per second can differ from steps (e.g. tokens/s): set a multiplier.
  void set_rate_scale(double units_per_step, std::string rate_unit);
  void finish(const std::string& status = "");

 private:
  void draw(bool final_line);
  std::string label_, unit_, rate_unit_, status_;
  int64_t total_, done_ = 0, start_done_ = -1;
  double scale_ = 1.0;
  FILE* out_;
  bool tty_;
  bool finished_ = false;
  int last_pct_printed_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
};

std::string format_duration(double seconds);

}  // namespace attnlab
