// Sandwich rule with in-place distillation (BigNAS, OFA): one training step over several subnets.
#pragma once

#include <vector>

#include "oqa/data/loader.h"
#include "oqa/space/supernet.h"
#include "oqa/train/subnet_pass.h"

namespace oqa::train {

// subnets[0] is the teacher (the largest): label-smoothed CE. Every other subnet (the random ones, then the
// smallest): KD to the teacher's detached soft labels, plus kd_ce_weight * CE. Gradients of all subnets
// accumulate; the caller zeroes them before and steps the optimizer after.
// A defined `teacher` (soft labels of a frozen network, e.g. the float supernet's largest subnet) replaces the
// largest subnet's as the other subnets' KD target.
StepResult sandwich_step(space::Supernet& net, const data::Batch& batch, const std::vector<space::Subnet>& subnets,
                         const DistillOptions& options, const torch::Tensor& teacher = {});

}  // namespace oqa::train
