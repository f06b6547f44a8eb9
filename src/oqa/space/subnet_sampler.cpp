// Sandwich subnet lists from the space's largest / sample / smallest.
#include "oqa/space/subnet_sampler.h"

#include <random>

namespace oqa::space {

Subnet apply_stage_quant(const Space& space, Subnet subnet, const std::string& quant) {
  if (quant == "mixed") return subnet;
  return space.with_quant(std::move(subnet), quant);
}

std::vector<Subnet> sandwich_subnets(const Space& space, const std::string& quant, int64_t n_random,
                                     uint64_t seed, const std::function<Subnet(const Subnet&)>& shape) {
  std::mt19937_64 rng(seed);
  auto finish = [&](const Subnet& s) { return apply_stage_quant(space, shape ? shape(s) : s, quant); };
  std::vector<Subnet> out;
  out.push_back(finish(space.largest()));
  for (int64_t i = 0; i < n_random; ++i) out.push_back(finish(space.sample(rng)));
  out.push_back(finish(space.smallest()));
  return out;
}

}  // namespace oqa::space
