// JsonReader: typed gets with errors naming the field, and unknown-key detection.
#include "oqa/util/json_reader.h"

#include <algorithm>

namespace oqa::util {

JsonReader::JsonReader(const nlohmann::json& j, std::string path, std::string file)
    : j_(j), path_(std::move(path)), file_(std::move(file)) {
  if (!j_.is_object())
    throw input_error("expected an object, got " + json_type_name(j_))
        .file(file_)
        .field(path_)
        .value(j_.dump());
}

Error JsonReader::error(const std::string& key, const std::string& message) const {
  Error e = input_error(message).file(file_).field(field(key));
  if (j_.contains(key)) e.value(j_.at(key).dump());
  return e;
}

const nlohmann::json& JsonReader::at(const std::string& key) {
  known_.insert(key);
  if (!j_.contains(key)) throw error(key, "required key is missing");
  return j_.at(key);
}

const nlohmann::json* JsonReader::typed(const std::string& key, bool (nlohmann::json::*is)() const noexcept,
                                        const char* expected) {
  known_.insert(key);
  if (!j_.contains(key)) return nullptr;
  const nlohmann::json& v = j_.at(key);
  if (!(v.*is)()) throw error(key, std::string("expected ") + expected + ", got " + json_type_name(v));
  return &v;
}

int64_t JsonReader::get_int(const std::string& key, int64_t fallback) {
  const nlohmann::json* v = typed(key, &nlohmann::json::is_number_integer, "an integer");
  if (v && v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw error(key, "out of range (above " + std::to_string(INT64_MAX) + ")");
  return v ? v->get<int64_t>() : fallback;
}

int64_t JsonReader::require_int(const std::string& key) {
  at(key);
  return get_int(key, 0);
}

bool JsonReader::get_bool(const std::string& key, bool fallback) {
  const nlohmann::json* v = typed(key, &nlohmann::json::is_boolean, "a boolean");
  return v ? v->get<bool>() : fallback;
}

std::string JsonReader::get_string(const std::string& key, const std::string& fallback) {
  const nlohmann::json* v = typed(key, &nlohmann::json::is_string, "a string");
  return v ? v->get<std::string>() : fallback;
}

std::vector<int64_t> JsonReader::get_int_list(const std::string& key, const std::vector<int64_t>& fallback) {
  const nlohmann::json* list = typed(key, &nlohmann::json::is_array, "a list of integers");
  if (!list) return fallback;
  const nlohmann::json& v = *list;
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number_integer())
      throw input_error("expected an integer, got " + json_type_name(v[i]))
          .file(file_)
          .field(indexed(field(key), i))
          .value(v[i].dump());
    out.push_back(v[i].get<int64_t>());
  }
  return out;
}

int64_t JsonReader::get_int_range(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) {
  const int64_t v = get_int(key, fallback);
  if (v < lo || v > hi) throw error(key, range_message(lo, hi));
  return v;
}

double JsonReader::get_range(const std::string& key, double fallback, double lo, double hi) {
  const nlohmann::json* v = typed(key, &nlohmann::json::is_number, "a number");
  if (!v) return fallback;
  const double x = v->get<double>();
  if (x < lo || x > hi) throw error(key, range_message(lo, hi));
  return x;
}

std::string JsonReader::get_choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& choices) {
  const std::string v = get_string(key, fallback);
  if (std::find(choices.begin(), choices.end(), v) == choices.end())
    throw error(key, choice_message(v, choices));
  return v;
}

void JsonReader::check_unknown() const {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string near = nearest(it.key(), {known_.begin(), known_.end()});
    std::string known;
    for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
    throw input_error("unknown key (known: " + known + ")" +
                      (near.empty() ? std::string() : "; did you mean '" + near + "'?"))
        .file(file_)
        .field(field(it.key()));
  }
}

std::string join_ints(const std::vector<int64_t>& values) {
  std::string s;
  for (int64_t v : values) s += (s.empty() ? "" : ", ") + std::to_string(v);
  return s;
}

std::string indexed(const std::string& field, size_t index) {
  return field + "[" + std::to_string(index) + "]";
}

void read_object_list(ConfigNode& node, const std::string& key, const nlohmann::json& fallback,
                      const std::function<void(JsonReader&)>& read_one) {
  const nlohmann::json list = node.get<nlohmann::json>(key, fallback);
  if (!list.is_array() || list.empty()) throw node.error(key, "expected a non-empty list of objects");
  for (size_t i = 0; i < list.size(); ++i) {
    JsonReader r(list[i], indexed(node.full(key), i), node.file());
    read_one(r);
    r.check_unknown();
  }
}

}  // namespace oqa::util
