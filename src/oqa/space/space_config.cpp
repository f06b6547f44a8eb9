// Config helpers: validated choice lists, resolution ranges and activations.
#include "oqa/space/space_config.h"

#include <set>

namespace oqa::space {

std::vector<int64_t> read_choices(util::ConfigNode& node, const std::string& key,
                                  const std::vector<int64_t>& fallback, int64_t lo, int64_t hi,
                                  bool odd_only) {
  auto v = node.get<std::vector<int64_t>>(key, fallback);
  if (v.empty()) throw node.error(key, "needs at least one choice");
  if (std::set<int64_t>(v.begin(), v.end()).size() != v.size()) throw node.error(key, "lists a choice twice");
  for (int64_t x : v) {
    if (x < lo || x > hi)
      throw node.error(key, "choices must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    if (odd_only && x % 2 == 0) throw node.error(key, "kernel sizes must be odd (e.g. 3, 5, 7)");
  }
  return v;
}

int64_t read_kernel(util::ConfigNode& node, const std::string& key, int64_t fallback) {
  const int64_t k = node.get_int_range(key, fallback, 1, 15);
  if (k % 2 == 0) throw node.error(key, "kernel sizes must be odd (e.g. 3, 5, 7)").value(std::to_string(k));
  return k;
}

std::vector<int64_t> read_resolutions(util::ConfigNode& node, const std::string& key,
                                      const std::vector<int64_t>& fallback) {
  const nlohmann::json v = node.get<nlohmann::json>(key, fallback);
  if (!v.is_object()) return read_choices(node, key, fallback, 1, 4096);
  util::ConfigNode range = node.child(key);
  const int64_t lo = range.get_int_range("min", 128, 1, 4096);
  const int64_t hi = range.get_int_range("max", 224, lo, 4096);
  const int64_t step = range.get_int_range("step", 4, 1, 4096);
  std::vector<int64_t> out;
  for (int64_t r = lo; r <= hi; r += step) out.push_back(r);
  return out;
}

nn::Activation read_activation(util::ConfigNode& node, const std::string& key, nn::Activation fallback) {
  return *nn::activation_from_name(
      node.get_choice(key, nn::to_string(fallback), {"none", "relu", "hswish", "hsigmoid"}));
}

nn::Activation get_activation(util::JsonReader& r, const std::string& key, nn::Activation fallback) {
  return *nn::activation_from_name(
      r.get_choice(key, nn::to_string(fallback), {"none", "relu", "hswish", "hsigmoid"}));
}

}  // namespace oqa::space
