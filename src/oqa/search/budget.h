// Budgets of a search: a hardware metric (MACs, BitOPs, bytes, params, latency, average bit-widths) and its
// limit, parsed from "KIND=VALUE" with K/M/G suffixes, and the costs of one subnet on every metric.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace oqa::search {

enum class Metric { kMacs, kBitops, kBytes, kParams, kLatency, kWeightBits, kActBits, kBits };

// "macs", "bitops", "bytes", "params", "latency" (ms, from a latency table), "wbits" (average weight bits,
// weighted by parameters), "abits" (average activation bits, weighted by feature-map size), "bits" (both
// averages: the larger of the two).
const std::vector<std::string>& metric_names();
std::string metric_name(Metric m);
Metric parse_metric(const std::string& name);  // usage error listing the names (and the nearest one)

struct Costs {
  double macs = 0, bitops = 0, bytes = 0, params = 0;
  double latency_ms = std::nan("");  // NaN: no latency table
  double avg_weight_bits = 0, avg_act_bits = 0;
  double get(Metric m) const;
  nlohmann::json to_json() const;
};

struct Budget {
  Metric metric = Metric::kMacs;
  double limit = 0;
  bool admits(const Costs& c) const { return c.get(metric) <= limit; }
  std::string to_string() const;  // "macs<=300K"
};

// "bitops=90M", "bytes=80K", "latency=1.5", "bits=3". Usage errors name the text and what is wrong.
Budget parse_budget(const std::string& text);
// 1.5K = 1500, 2M, 3G, 1e6; throws usage_error naming `what` when text is not a positive number.
double parse_scaled(const std::string& text, const std::string& what);
// 300000 -> "300K", 1.2e8 -> "120M" (4 significant digits).
std::string format_scaled(double v);

}  // namespace oqa::search
