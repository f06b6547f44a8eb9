// Metrics log: JSON lines kept in memory and rewritten atomically, so the file always matches a checkpoint.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace oqa::train {

class MetricsLog {
 public:
  explicit MetricsLog(std::string path);  // loads existing lines when the file exists

  void append(nlohmann::json record);
  // Drops records of `stage` whose step is beyond `step` (used on resume: they will be redone).
  void truncate_after(const std::string& stage, int64_t step);
  void flush() const;  // atomic rewrite of the whole file
  const std::vector<nlohmann::json>& records() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<nlohmann::json> records_;
};

}  // namespace oqa::train
