// `oqa info --config C`: search-space summary with the costs of the smallest and largest subnets.
#include "oqa/cli/info_space.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "oqa/cost/cost.h"
#include "oqa/space/make_space.h"

namespace oqa::cli {
namespace {

// 1234567 -> "1.23M"; values below 1000 print as integers.
std::string human(double v) {
  const char* units[] = {"", "K", "M", "G", "T", "P"};
  int u = 0;
  while (std::fabs(v) >= 1000.0 && u < 5) v /= 1000.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.2f%s", v, units[u]);
  return buf;
}

void print_costs(const char* label, const cost::CostSummary& c) {
  std::printf("  %-9s %10s %10s %10s %10s   avg bits w %.2f a %.2f\n", label, human(c.macs).c_str(),
              human(c.params).c_str(), human(c.bytes).c_str(), human(c.bitops).c_str(), c.avg_weight_bits,
              c.avg_act_bits);
}

}  // namespace

void print_space_info(const std::string& config_path) {
  std::shared_ptr<space::Space> s = space::space_from_config_file(config_path);
  const space::Subnet small = s->smallest(), large = s->largest();
  std::printf("space: %s (%s)\n", s->kind().c_str(), config_path.c_str());
  std::printf("  input %lld channels, %lld classes, resolutions", static_cast<long long>(s->input_channels()),
              static_cast<long long>(s->classes()));
  for (int64_t r : s->resolutions()) std::printf(" %lld", static_cast<long long>(r));
  std::printf("\n  layers %zu (searched %zu), genes %zu, one-hot %zu\n", s->layer_slots().size(),
              s->searched_layers(), s->genes().size(), s->one_hot_size());
  std::printf("  size: 10^%.2f subnets (%.3g)\n", s->log10_size(), s->size());
  std::printf("  smallest: %s\n  largest:  %s\n", space::to_string(small).c_str(),
              space::to_string(large).c_str());
  std::printf(
      "costs (float tensors count 32 bits in BitOPs; bytes: weights at their bits, float at 4 bytes):\n");
  std::printf("  %-9s %10s %10s %10s %10s\n", "", "MACs", "params", "bytes", "BitOPs");
  print_costs("smallest", cost::count(*s, small));
  print_costs("largest", cost::count(*s, large));
}

}  // namespace oqa::cli
