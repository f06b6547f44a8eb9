// Config reading: typed gets with defaults, range and choice checks, overrides, unknown-key errors.
#include "oqa/util/config.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include "oqa/util/atomic_file.h"
#include "oqa/util/hash.h"

namespace oqa::util {

std::string json_type_name(const Json& j) {
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list";
  if (j.is_object()) return "an object";
  return "null";
}

ConfigNode::ConfigNode(std::shared_ptr<ConfigDoc> doc, std::string path)
    : doc_(std::move(doc)), path_(std::move(path)) {}

Json& ConfigNode::node() {
  Json* j = &doc_->root;
  if (path_.empty()) return *j;
  std::stringstream ss(path_);
  std::string part;
  while (std::getline(ss, part, '.')) j = &(*j)[part];
  return *j;
}

const Json* ConfigNode::find(const std::string& key) const {
  const Json* j = &doc_->root;
  if (!path_.empty()) {
    std::stringstream ss(path_);
    std::string part;
    while (std::getline(ss, part, '.')) {
      if (!j->is_object() || !j->contains(part)) return nullptr;
      j = &(*j)[part];
    }
  }
  if (!j->is_object() || !j->contains(key)) return nullptr;
  return &(*j)[key];
}

bool ConfigNode::has(const std::string& key) const { return find(key) != nullptr; }

Error ConfigNode::error(const std::string& key, const std::string& message) const {
  const Json* v = find(key);
  Error e = input_error(message).file(doc_->file).field(full(key));
  if (v) e.value(v->dump());
  return e;
}

ConfigNode ConfigNode::child(const std::string& key) {
  doc_->read_paths.insert(full(key));
  const Json* v = find(key);
  if (!v) node()[key] = Json::object();
  else if (!v->is_object()) throw error(key, "expected an object, got " + json_type_name(*v));
  return ConfigNode(doc_, full(key));
}

double ConfigNode::get_range(const std::string& key, double fallback, double lo, double hi) {
  double v = get<double>(key, fallback);
  if (!std::isfinite(v) || v < lo || v > hi)
    throw error(key, range_message(lo, hi));
  return v;
}

int64_t ConfigNode::get_int_range(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) {
  int64_t v = get<int64_t>(key, fallback);
  if (v < lo || v > hi)
    throw error(key, range_message(lo, hi));
  return v;
}

std::string ConfigNode::get_choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& allowed) {
  std::string v = get<std::string>(key, fallback);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) throw error(key, choice_message(v, allowed));
  return v;
}

std::string range_message(double lo, double hi) {
  return "must lie in [" + Json(lo).dump() + ", " + Json(hi).dump() + "]";
}

std::string range_message(int64_t lo, int64_t hi) {
  return "must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

std::string choice_message(const std::string& value, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  const std::string near = nearest(value, allowed);
  return "must be one of: " + list + (near.empty() ? "" : " (did you mean '" + near + "'?)");
}

Config Config::load(const std::string& path) {
  auto doc = std::make_shared<ConfigDoc>();
  doc->file = path;
  doc->root = read_json(path);
  if (!doc->root.is_object()) throw input_error("a config must be a JSON object").file(path);
  return Config(doc);
}

Config Config::from_json(Json j, std::string name) {
  auto doc = std::make_shared<ConfigDoc>();
  doc->file = std::move(name);
  doc->root = std::move(j);
  if (!doc->root.is_object()) throw input_error("a config must be a JSON object").file(doc->file);
  return Config(doc);
}

void Config::set(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw usage_error("an override must look like key.path=value").value(assignment);
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::exception&) {
    value = text;
  }
  Json* j = &doc_->root;
  std::stringstream ss(key);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!j->contains(parts[i])) (*j)[parts[i]] = Json::object();
    j = &(*j)[parts[i]];
    if (!j->is_object()) throw usage_error("override path crosses a non-object").field(key);
  }
  (*j)[parts.back()] = value;
}

ConfigNode Config::root() { return ConfigNode(doc_, ""); }

void Config::check_unknown(const std::vector<std::string>& read_elsewhere) const {
  std::function<void(const Json&, const std::string&)> walk = [&](const Json& j, const std::string& path) {
    if (!j.is_object()) return;
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string full = path.empty() ? it.key() : path + "." + it.key();
      if (path.empty() && std::find(read_elsewhere.begin(), read_elsewhere.end(), full) != read_elsewhere.end())
        continue;
      if (!doc_->read_paths.count(full)) {
        std::vector<std::string> siblings;
        const std::string prefix = path.empty() ? "" : path + ".";
        for (const auto& p : doc_->read_paths) {
          if (p.rfind(prefix, 0) == 0 && p.find('.', prefix.size()) == std::string::npos)
            siblings.push_back(p.substr(prefix.size()));
        }
        std::string near = nearest(it.key(), siblings);
        throw input_error("unknown key" + (near.empty() ? std::string() : " (did you mean '" + prefix + near + "'?)"))
            .file(doc_->file)
            .field(full);
      }
      walk(it.value(), full);
    }
  };
  walk(doc_->root, "");
}

std::string Config::hash() const { return hex64(fnv1a64(doc_->root.dump())); }

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(3, word.size() / 2) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

Json read_json(const std::string& path) {
  std::string text = read_file(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.byte is the 1-based offset of the error; turn it into line:column.
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') line++, col = 1;
      else col++;
    }
    throw input_error("invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(col))
        .file(path);
  }
}

void write_json(const std::string& path, const Json& j) { atomic_write(path, j.dump(2) + "\n"); }

}  // namespace oqa::util
