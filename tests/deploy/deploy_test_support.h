// Shared fixtures of the deploy tests: static models of tiny primed supernets at chosen precisions.
#pragma once

#include <functional>
#include <random>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "oqa/space/subnet.h"
#include "oqa/space/supernet.h"
#include "space/tiny_spaces.h"

namespace oqa::test {

using SubnetPick = std::function<space::Subnet(const space::Space&)>;

// The static model of the subnet `pick` chooses, after one primed forward pass initialised its quantizers.
inline nn::StaticModel extract_tiny(const char* config, const SubnetPick& pick, uint64_t seed) {
  torch::manual_seed(static_cast<int64_t>(seed));
  auto s = oqa_test::tiny_space(config);
  auto net = space::make_supernet(s);
  const space::Subnet subnet = pick(*s);
  oqa_test::prime(*net, subnet);
  return space::extract_static(*net, subnet);
}

// The largest (or smallest) architecture with every searched layer at w/a bits and the given forms
// (per-channel weights).
inline SubnetPick uniform(int w, int a, bool weight_symmetric, bool act_symmetric, bool smallest = false) {
  return [=](const space::Space& s) {
    nlohmann::json j = space::to_json(smallest ? s.smallest() : s.largest());
    j["quant"] = {{"weight_bits", w},
                  {"act_bits", a},
                  {"weight_granularity", "per_channel"},
                  {"weight_symmetric", weight_symmetric},
                  {"act_symmetric", act_symmetric}};
    return s.parse(j, "test");
  };
}

// A random architecture with random per-layer bit-widths and forms (mixed precision).
inline SubnetPick sampled(uint64_t seed) {
  return [=](const space::Space& s) {
    std::mt19937_64 rng(seed);
    return s.sample(rng);
  };
}

}  // namespace oqa::test
