// Progress bar drawing and periodic log lines.
#include "oqa/util/progress.h"

#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/util/log.h"

namespace oqa::util {

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

Progress::Progress(std::string label, int64_t total, std::string unit, double interval_s)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), interval_s_(interval_s),
      bar_(stdout_is_tty() && !quiet()),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && bar_ && done_ > 0) std::fputs("\n", stdout);
}

double Progress::rate() const {
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return el > 0 ? done_ / el : 0.0;
}

void Progress::advance(int64_t n, const std::string& status) {
  done_ += n;
  status_ = status;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (bar_ ? 0.1 : interval_s_) || done_ == total_) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  if (!status.empty()) status_ = status;
  draw(true);
  finished_ = true;
}

void Progress::draw(bool final_line) {
  const double r = rate();
  const double eta = (r > 0 && total_ > 0) ? (total_ - done_) / r : -1;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string counts = total_ > 0 ? fmt::format("{}/{}", done_, total_) : fmt::format("{}", done_);
  std::string timing = final_line ? fmt::format("{:.1f} {}/s, {}", r, unit_, format_duration(elapsed))
                                  : fmt::format("{:.1f} {}/s, ETA {}", r, unit_, format_duration(eta));
  if (bar_) {
    constexpr int kWidth = 28;
    int fill = total_ > 0 ? static_cast<int>(kWidth * done_ / std::max<int64_t>(total_, 1)) : 0;
    std::string bar(fill, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stdout, "\r\033[K%s [%s] %s %s%s%s", label_.c_str(), bar.c_str(), counts.c_str(),
                 timing.c_str(), status_.empty() ? "" : "  ", status_.c_str());
    if (final_line) std::fputs("\n", stdout);
    std::fflush(stdout);
  } else if (!quiet() || final_line) {
    spdlog::info("{} {} {}{}{}", label_, counts, timing, status_.empty() ? "" : "  ", status_);
  }
}

}  // namespace oqa::util
