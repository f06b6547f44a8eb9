// What the .oqa harnesses do with a decoded model: plan it for the integer runtime and, when small, run it.
#pragma once

#include <torch/torch.h>

#include "oqa/deploy/int_runtime.h"
#include "oqa/deploy/oqa_format.h"

namespace oqa::fuzz {

inline void run_decoded(const deploy::DeployModel& m) {
  deploy::IntegerModel im(m);
  const int64_t c = m.model.in_channels(), r = m.model.resolution();
  if (c * r * r <= 4096 && m.model.layers().size() <= 64) im.forward(torch::zeros({1, c, r, r}));
}

}  // namespace oqa::fuzz
