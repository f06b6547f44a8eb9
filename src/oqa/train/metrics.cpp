// Metrics log implementation.
#include "oqa/train/metrics.h"

#include <filesystem>
#include <sstream>

#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace oqa::train {

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)) {
  if (!std::filesystem::exists(path_)) return;
  std::istringstream in(util::read_file(path_));
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    try {
      records_.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      throw util::input_error("corrupt metrics line " + std::to_string(n)).file(path_);
    }
  }
}

void MetricsLog::append(nlohmann::json record) { records_.push_back(std::move(record)); }

void MetricsLog::truncate_after(const std::string& stage, int64_t step) {
  std::vector<nlohmann::json> kept;
  for (auto& r : records_)
    if (!(r.value("stage", "") == stage && r.value("step", int64_t{0}) > step)) kept.push_back(std::move(r));
  records_ = std::move(kept);
}

void MetricsLog::flush() const {
  std::string text;
  for (const auto& r : records_) text += r.dump() + "\n";
  util::atomic_write(path_, text);
}

}  // namespace oqa::train
