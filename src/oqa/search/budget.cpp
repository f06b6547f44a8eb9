// Budget parsing and per-metric cost lookup.
#include "oqa/search/budget.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::search {

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"macs",    "bitops", "bytes", "params",
                                                 "latency", "wbits",  "abits", "bits"};
  return names;
}

std::string metric_name(Metric m) { return metric_names()[static_cast<size_t>(m)]; }

Metric parse_metric(const std::string& name) {
  const auto& names = metric_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Metric>(i);
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  const std::string near = util::nearest(name, names);
  throw util::usage_error("unknown cost metric '" + name + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                          "; metrics: " + all);
}

double Costs::get(Metric m) const {
  switch (m) {
    case Metric::kMacs: return macs;
    case Metric::kBitops: return bitops;
    case Metric::kBytes: return bytes;
    case Metric::kParams: return params;
    case Metric::kLatency: return latency_ms;
    case Metric::kWeightBits: return avg_weight_bits;
    case Metric::kActBits: return avg_act_bits;
    case Metric::kBits: return std::max(avg_weight_bits, avg_act_bits);
  }
  return 0;
}

nlohmann::json Costs::to_json() const {
  nlohmann::json j = {{"macs", macs},     {"bitops", bitops}, {"bytes", bytes}, {"params", params},
                      {"wbits", avg_weight_bits}, {"abits", avg_act_bits}};
  if (!std::isnan(latency_ms)) j["latency_ms"] = latency_ms;
  return j;
}

std::string format_scaled(double v) {
  const double a = std::abs(v);
  if (a >= 1e9) return fmt::format("{:.4g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.4g}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.4g}K", v / 1e3);
  return fmt::format("{:.4g}", v);
}

std::string Budget::to_string() const {
  if (fraction >= 0 && limit <= 0) return fmt::format("{}<={:g}%", metric_name(metric), 100 * fraction);
  return metric_name(metric) + "<=" + format_scaled(limit);
}

namespace {

// True when all of digits is one number (strtod's syntax), which is then in v.
bool whole_number(const std::string& digits, double& v) {
  char* end = nullptr;
  v = std::strtod(digits.c_str(), &end);
  return !digits.empty() && end == digits.c_str() + digits.size();
}

}  // namespace

double parse_scaled(const std::string& text, const std::string& what) {
  if (text.empty()) throw util::usage_error(what + " has no value").value(text);
  double scale = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': scale = 1e3; digits.pop_back(); break;
    case 'M': case 'm': scale = 1e6; digits.pop_back(); break;
    case 'G': case 'g': scale = 1e9; digits.pop_back(); break;
    default: break;
  }
  double v = 0;
  if (!whole_number(digits, v) || !(v > 0) || !std::isfinite(v))
    throw util::usage_error(what + " must be a positive number (suffix K, M or G allowed)").value(text);
  return v * scale;
}

Budget parse_budget(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos)
    throw util::usage_error("a budget is KIND=VALUE, e.g. bitops=90M or bits=3").value(text);
  Budget b;
  b.metric = parse_metric(text.substr(0, eq));
  const std::string value = text.substr(eq + 1);
  if (!value.empty() && value.back() == '%') {
    double v = 0;
    if (!whole_number(value.substr(0, value.size() - 1), v) || !(v >= 0) || v > 100)
      throw util::usage_error("budget " + text.substr(0, eq) +
                              " as a share of the way from the smallest subnet to the largest must be in 0..100%")
          .value(text);
    b.fraction = v / 100;
    return b;
  }
  b.limit = parse_scaled(value, "budget " + text.substr(0, eq));
  return b;
}

}  // namespace oqa::search
