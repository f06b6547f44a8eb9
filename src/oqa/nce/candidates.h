// Width candidates of neural channel expansion: each width group's initial candidates (the space's) and
// the wider ones expansion may add up to the cap, all allocated in one expanded ResNet space.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oqa/nce/nce_options.h"
#include "oqa/space/resnet_space.h"

namespace oqa::nce {

struct GroupCandidates {
  std::string name;
  int64_t base = 0;             // the group's base width (multiplier 1)
  std::vector<int64_t> widths;  // ascending: the initial candidates, then the expansions
  size_t initial = 0;           // widths[0, initial) are active from the start
};

// The candidates of every width group of `space`: its own, then round((m + k x expand_step) x base) for
// k = 1, 2, ... while the multiplier stays at most cap (m: the widest initial candidate's multiplier).
// Throws a usage error when no group has more than one width to choose from.
std::vector<GroupCandidates> plan_candidates(const space::ResNetSpace& space, const NceOptions& options);

// The space with every group's candidates set to widths (the supernet allocates the widest of each).
std::shared_ptr<const space::ResNetSpace> expanded_space(const space::ResNetSpace& space,
                                                         const std::vector<GroupCandidates>& plan);

// The candidate of each group nearest its base width among the initial ones (the base architecture).
std::vector<int64_t> base_widths(const std::vector<GroupCandidates>& plan);

}  // namespace oqa::nce
