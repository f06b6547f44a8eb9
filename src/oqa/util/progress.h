// Progress: a bar with rate and ETA on a terminal, periodic plain log lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace oqa::util {

class Progress {
 public:
  // `total` steps of `unit` (e.g. "batch"); `interval_s` is the spacing of plain log lines.
  Progress(std::string label, int64_t total, std::string unit = "it", double interval_s = 10.0);
  ~Progress();

  // Advances by `n` steps; `status` (e.g. "loss 0.42") is shown beside the bar.
  void advance(int64_t n = 1, const std::string& status = "");
  // Ends the bar with a final line.
  void finish(const std::string& status = "");

  double rate() const;  // steps per second since start
  int64_t done() const { return done_; }

 private:
  void draw(bool final_line);
  std::string label_, unit_, status_;
  int64_t total_, done_ = 0;
  double interval_s_;
  bool bar_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace oqa::util
