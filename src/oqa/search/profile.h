// HardwareProfile: the quantization forms a deployment target runs, as a restriction of the search's genes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/space/space.h"
#include "oqa/util/config.h"

namespace oqa::search {

// The allowed values of one gene (in the gene's choice order).
struct GeneDomain {
  size_t gene = 0;
  std::vector<int64_t> values;
};

// What the searched layers may use on the target; an empty list allows every choice of the space. Values are
// gene values: bits 2..8; granularity 0 = per_tensor, 1 = per_channel; symmetry 1 = symmetric.
// Fixed-precision layers (precision "w8a8") keep their config precision.
struct HardwareProfile {
  std::vector<int64_t> weight_bits, act_bits, weight_granularity, weight_symmetric, act_symmetric;

  bool empty() const;
  // Only the keys set, in the space's quant format: {"act_bits": [8], "weight_granularity": ["per_tensor"]}.
  nlohmann::json to_json() const;
  // Does every searched layer of the subnet use allowed values?
  bool admits(const space::Subnet& subnet) const;
};

// Reads an object with any of the keys weight_bits, act_bits (integers 2..8), weight_granularity
// ("per_tensor" | "per_channel"), weight_symmetric, act_symmetric (booleans), each one value or a list (a
// missing key or [] allows any); errors name the key and value.
HardwareProfile read_profile(util::ConfigNode node);
// `oqa search --profile`: an inline JSON object or the path of a JSON file holding one.
HardwareProfile parse_profile_arg(const std::string& text);

// The domain of every quant gene the profile narrows. Throws a usage error naming the profile key, its values
// and the first layer whose choices it leaves empty.
std::vector<GeneDomain> profile_domains(const space::Space& space, const HardwareProfile& profile);

}  // namespace oqa::search
