// Metrics log implementation: appends in the common case, one atomic rewrite after a truncation.
#include "oqa/train/metrics.h"

#include <filesystem>
#include <sstream>

#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace oqa::train {

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)) {
  if (!std::filesystem::exists(path_)) return;
  const std::string text = util::read_file(path_);
  std::istringstream in(text);
  std::string line;
  int64_t n = 0;
  size_t consumed = 0;
  while (std::getline(in, line)) {
    ++n;
    consumed += line.size() + 1;
    const bool last_cut = consumed > text.size();  // no newline after it: an append cut short
    if (line.empty()) continue;
    try {
      records_.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      if (!last_cut) throw util::input_error("corrupt metrics line " + std::to_string(n)).file(path_);
    }
    if (last_cut) rewrite_ = true;  // end the file with a whole line before appending to it
  }
  flushed_ = records_.size();
}

void MetricsLog::append(nlohmann::json record) {
  records_.push_back(std::move(record));
}

void MetricsLog::truncate_after(const std::string& stage, int64_t step) {
  std::vector<nlohmann::json> kept;
  for (auto& r : records_)
    if (!(r.value("stage", "") == stage && r.value("step", int64_t{0}) > step)) kept.push_back(std::move(r));
  if (kept.size() != records_.size()) rewrite_ = true;
  records_ = std::move(kept);
  flushed_ = std::min(flushed_, records_.size());
}

void MetricsLog::flush() {
  std::string text;
  for (size_t i = rewrite_ ? 0 : flushed_; i < records_.size(); ++i) text += records_[i].dump() + "\n";
  if (rewrite_)
    util::atomic_write(path_, text);
  else if (!text.empty())
    util::append_synced(path_, text);
  rewrite_ = false;
  flushed_ = records_.size();
}

}  // namespace oqa::train
