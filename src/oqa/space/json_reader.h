// JsonReader: strict, typed reading of one JSON object (subnets, stage lists) with errors naming the field.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/util/error.h"

namespace oqa::space {

// Reads keys of a JSON object at `path` (e.g. "stages[2]"); every error names file and "path.key".
// check_unknown() throws for a key no get/require asked for, suggesting the nearest known one.
class JsonReader {
 public:
  JsonReader(const nlohmann::json& j, std::string path, std::string file = "");

  bool has(const std::string& key) const { return j_.contains(key); }
  const nlohmann::json& at(const std::string& key);  // required, any type
  int64_t get_int(const std::string& key, int64_t fallback);
  int64_t require_int(const std::string& key);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback);
  std::vector<int64_t> get_int_list(const std::string& key, const std::vector<int64_t>& fallback);
  void check_unknown() const;

  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  util::Error error(const std::string& key, const std::string& message) const;
  const std::string& file() const { return file_; }

 private:
  const nlohmann::json& j_;
  std::string path_, file_;
  std::set<std::string> known_;
};

// "a, b, c" for error messages.
std::string join_ints(const std::vector<int64_t>& values);
// Index-qualified field name: "stages" + 2 -> "stages[2]".
std::string indexed(const std::string& field, size_t index);

}  // namespace oqa::space
