// Progressive shrinking (Once-for-All): a stage's steps split into phases, each making one more dimension
// elastic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oqa/space/space.h"

namespace oqa::train {

// What an architecture gene changes, from its field: "stages[1].kernel[0]" -> "kernel", ".depth" -> "depth",
// ".expand" / "widths" -> "width", "resolution", "quant.*" -> "quant"; anything else "other".
std::string gene_dimension(const space::Gene& gene);

// Phases "largest", then "kernel", "depth" and "width" for each of those the space can vary (a gene with more
// than one choice), in that order; phase i covers steps [total * i / P, total * (i + 1) / P). Resolution is
// elastic in every phase (as in Once-for-All), quantization is the stage's.
struct ProgressivePlan {
  std::vector<std::string> phases;
  int64_t total_steps = 0;

  int phase_at(int64_t step) const;
  int64_t phase_start(int phase) const;
  // The dimensions elastic in `phase`: every phase's dimension up to it.
  bool elastic(int phase, const std::string& dimension) const;
};

ProgressivePlan progressive_plan(const space::Space& space, int64_t total_steps);

// subnet with every kernel / depth / width gene not yet elastic in `phase` at its largest value.
space::Subnet restrict_to_phase(const space::Space& space, const space::Subnet& subnet,
                                const ProgressivePlan& plan, int phase);

}  // namespace oqa::train
