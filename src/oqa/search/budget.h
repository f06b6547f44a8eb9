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
  // >= 0: the budget was given as a share ("bitops=40%" -> 0.4) of the way from the smallest subnet's cost
  // to the largest's at the searched stage; limit is set from it by resolve_budgets. < 0: limit as given.
  double fraction = -1;
  bool admits(const Costs& c) const { return c.get(metric) <= limit; }
  std::string to_string() const;  // "macs<=300K" ("macs<=40%" before it is resolved)
};

// "bitops=90M", "bytes=80K", "latency=1.5", "bits=3", or a share of the stage's cost range: "bitops=40%" is
// the smallest subnet's cost plus 40% of the way to the largest's (0% .. 100%), so it holds at any input size
// or data set. Usage errors name the text and what is wrong.
Budget parse_budget(const std::string& text);
// 1.5K = 1500, 2M, 3G, 1e6; throws usage_error naming `what` when text is not a positive number.
double parse_scaled(const std::string& text, const std::string& what);
// 300000 -> "300K", 1.2e8 -> "120M" (4 significant digits).
std::string format_scaled(double v);

}  // namespace oqa::search
