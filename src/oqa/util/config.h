// Config: JSON experiment configs read key by key with typed defaults; unknown keys are errors.
#pragma once

#include <memory>
#include <set>
#include <type_traits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/util/error.h"

namespace oqa::util {

using Json = nlohmann::json;

// Shared state of one config document: its file name, the resolved JSON and the keys read so far.
struct ConfigDoc {
  std::string file;
  Json root;
  std::set<std::string> read_paths;  // dotted paths of every key asked for
};

// A view of one JSON object inside a config. Every get() records its key and writes the default
// into the resolved document, so the run's config.json lists every setting in force.
class ConfigNode {
 public:
  ConfigNode(std::shared_ptr<ConfigDoc> doc, std::string path);

  bool has(const std::string& key) const;
  ConfigNode child(const std::string& key);  // a missing child becomes an empty object

  template <class T>
  T get(const std::string& key, const T& fallback);
  template <class T>
  T require(const std::string& key);
  // Numbers with bounds (inclusive); strings from a fixed set.
  double get_range(const std::string& key, double fallback, double lo, double hi);
  int64_t get_int_range(const std::string& key, int64_t fallback, int64_t lo, int64_t hi);
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed);

  const std::string& file() const { return doc_->file; }
  std::string full(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  Error error(const std::string& key, const std::string& message) const;  // an input error naming key

 private:
  Json& node();
  const Json* find(const std::string& key) const;
  std::shared_ptr<ConfigDoc> doc_;
  std::string path_;
};

class Config {
 public:
  static Config load(const std::string& path);                  // errors name the file
  static Config from_json(Json j, std::string name = "<config>");

  // "a.b.c=value"; the value is parsed as JSON, or taken as a string when that fails.
  void set(const std::string& assignment);
  ConfigNode root();
  // Throws for the first key in the document that no get() asked for, suggesting the nearest one; top-level
  // sections named in `read_elsewhere` are skipped (another module reads and checks them).
  void check_unknown(const std::vector<std::string>& read_elsewhere = {}) const;

  const Json& resolved() const { return doc_->root; }
  const std::string& file() const { return doc_->file; }
  // Stable hash of the resolved document (checkpoints refuse a different config).
  std::string hash() const;

 private:
  explicit Config(std::shared_ptr<ConfigDoc> doc) : doc_(std::move(doc)) {}
  std::shared_ptr<ConfigDoc> doc_;
};

// Levenshtein distance; the nearest candidate, or "" when none is close.
size_t edit_distance(const std::string& a, const std::string& b);
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

// The messages both config readers (ConfigNode, JsonReader) give for a value out of range or not a choice.
std::string range_message(double lo, double hi);    // "must lie in [0.0, 1.0]"
std::string range_message(int64_t lo, int64_t hi);  // "must lie in [1, 8]"
std::string choice_message(const std::string& value, const std::vector<std::string>& allowed);

// Reads a JSON file; a syntax error names the file, line and column.
Json read_json(const std::string& path);
// Pretty-printed JSON written atomically.
void write_json(const std::string& path, const Json& j);

// ---- template definitions ---------------------------------------------------------------------
namespace detail {
template <class T>
struct is_integer_vector : std::false_type {};
template <class E, class A>
struct is_integer_vector<std::vector<E, A>> : std::bool_constant<std::is_integral_v<E> && !std::is_same_v<E, bool>> {};
}  // namespace detail

std::string json_type_name(const Json& j);

template <class T>
T ConfigNode::get(const std::string& key, const T& fallback) {
  doc_->read_paths.insert(full(key));
  const Json* v = find(key);
  if (!v) {
    node()[key] = fallback;
    return fallback;
  }
  try {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v->is_boolean()) throw Json::type_error::create(302, "", nullptr);
    } else if constexpr (std::is_integral_v<T>) {
      if (!v->is_number_integer()) throw Json::type_error::create(302, "", nullptr);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v->is_number()) throw Json::type_error::create(302, "", nullptr);
    } else if constexpr (detail::is_integer_vector<T>::value) {
      // Each element an integer: a float such as 3.2e33 converted to an integer would be undefined.
      if (!v->is_array()) throw Json::type_error::create(302, "", nullptr);
      for (const Json& e : *v)
        if (!e.is_number_integer()) throw Json::type_error::create(302, "", nullptr);
    }
    return v->get<T>();
  } catch (const Json::exception&) {
    Json expected = fallback;
    throw error(key, "expected " + json_type_name(expected) + ", got " + json_type_name(*v))
        .value(v->dump());
  }
}

template <class T>
T ConfigNode::require(const std::string& key) {
  if (!find(key)) throw error(key, "required key is missing");
  return get<T>(key, T{});
}

}  // namespace oqa::util
