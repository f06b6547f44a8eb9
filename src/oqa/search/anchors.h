// Uniform-precision anchors of a mixed-precision search: the uniform subnets that meet the budgets, measured
// beside the searched candidates so that a search never returns less than uniform precision would give.
#pragma once

#include <vector>

#include "oqa/search/evolution.h"

namespace oqa::search {

// For a stage whose quantization is searched (no fixed quantization genes): for every pair (w, a) of the
// space's weight and activation bit-widths, the largest architecture with every searched layer at w-bit
// weights and a-bit activations, its forms the space's defaults, brought inside the profile's domains; of
// those that meet every budget, the ones no other exceeds in both average weight and activation bits, highest
// first. Empty for a uniform stage, or when the largest architecture meets no budget at any bit-width.
std::vector<space::Subnet> uniform_anchors(const SearchProblem& problem);

}  // namespace oqa::search
