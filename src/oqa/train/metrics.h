// Metrics log: JSON lines appended and synced at each checkpoint; a resume drops the lines past the
// checkpoint (one rewrite), so after a resume the file always matches the weights.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace oqa::train {

class MetricsLog {
 public:
  // Loads existing lines when the file exists; a cut last line (a crash during an append) is dropped, a
  // corrupt line before it is an input error.
  explicit MetricsLog(std::string path);

  void append(nlohmann::json record);
  // Drops records of `stage` whose step is beyond `step` (used on resume: they will be redone).
  void truncate_after(const std::string& stage, int64_t step);
  // Appends the records added since the last flush; after a truncation (or a dropped cut line), rewrites the
  // whole file atomically instead.
  void flush();
  const std::vector<nlohmann::json>& records() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<nlohmann::json> records_;
  size_t flushed_ = 0;    // records_[0, flushed_) are in the file
  bool rewrite_ = false;  // the file holds lines records_ no longer has
};

}  // namespace oqa::train
