// GPG (EQ-Net): a distillation chain largest -> random -> smallest in one training step.
#pragma once

#include <vector>

#include "oqa/data/loader.h"
#include "oqa/space/supernet.h"
#include "oqa/train/subnet_pass.h"

namespace oqa::train {

// subnets = [H, R_1..R_n, L] (at least 2). H: label-smoothed CE. Each R_i: 0.5 * KL(R_i || H) + 0.5 * CE.
// L: 0.5 * KL(L || R_n) + 0.5 * CE (L distils from H when there is no random subnet). KL(S || T) is the KD
// loss of student S to T's detached soft labels. Gradients accumulate; one optimizer step follows.
StepResult gpg_step(space::Supernet& net, const data::Batch& batch, const std::vector<space::Subnet>& subnets,
                    const DistillOptions& options);

}  // namespace oqa::train
