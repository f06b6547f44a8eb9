// JsonReader: strict, typed reading of one JSON object (subnets, stage lists) with errors naming the field;
// read_object_list reads a config list of such objects.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::util {

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
  // The same range and choice checks as ConfigNode's: an integer or number in [lo, hi], a string of choices.
  int64_t get_int_range(const std::string& key, int64_t fallback, int64_t lo, int64_t hi);
  double get_range(const std::string& key, double fallback, double lo, double hi);
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices);
  void check_unknown() const;

  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  Error error(const std::string& key, const std::string& message) const;
  const std::string& file() const { return file_; }

 private:
  // Marks key as read; nullptr when it is absent, else its value, which must pass `is` (else an error saying
  // "expected <expected>, got <type>").
  const nlohmann::json* typed(const std::string& key, bool (nlohmann::json::*is)() const noexcept,
                              const char* expected);

  const nlohmann::json& j_;
  std::string path_, file_;
  std::set<std::string> known_;
};

// "a, b, c" for error messages.
std::string join_ints(const std::vector<int64_t>& values);
// Index-qualified field name: "stages" + 2 -> "stages[2]".
std::string indexed(const std::string& field, size_t index);

// A list of objects at node[key] (default `fallback`), each read strictly by read_one with a JsonReader whose
// errors name "key[i].field"; unknown keys inside an object are errors.
void read_object_list(ConfigNode& node, const std::string& key, const nlohmann::json& fallback,
                      const std::function<void(JsonReader&)>& read_one);

}  // namespace oqa::util
