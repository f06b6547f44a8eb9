// Subnet sampling for one training step: largest, n random and smallest, at the stage's quantization.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "oqa/space/space.h"

namespace oqa::space {

// The quantization of a subnet in a stage: "float" or "w<b>a<b>" sets every searched layer; "mixed" keeps the
// sampled quant genes (largest / smallest take the space's largest / smallest bit-widths).
Subnet apply_stage_quant(const Space& space, Subnet subnet, const std::string& quant);

// The subnet with every form gene of its searched layers (weight granularity, weight and activation
// symmetry: the unordered quant genes) drawn uniformly from rng; bits and architecture kept.
Subnet with_random_forms(const Space& space, const Subnet& subnet, std::mt19937_64& rng);

// [largest, n_random random subnets, smallest], each passed through `shape` (when set: progressive shrinking
// fixes the dimensions that are not elastic yet) then apply_stage_quant; the random ones drawn from an RNG
// seeded with `seed` (a pure function of the step, so a resumed run draws the same subnets). In a "mixed"
// stage the largest and smallest take random forms as well (EQ-Net's sandwich: forms random for all three).
std::vector<Subnet> sandwich_subnets(const Space& space, const std::string& quant, int64_t n_random,
                                     uint64_t seed, const std::function<Subnet(const Subnet&)>& shape = {});

}  // namespace oqa::space
