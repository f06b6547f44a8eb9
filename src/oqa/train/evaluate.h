// Evaluation: top-1 accuracy and mean cross-entropy of a model over a loader's epoch.
#pragma once

#include <functional>
#include <string>

#include <torch/types.h>

#include "oqa/data/loader.h"

namespace oqa::train {

struct EvalResult {
  double top1 = 0;  // percent
  double loss = 0;
  int64_t samples = 0;
};

using ForwardFn = std::function<torch::Tensor(const torch::Tensor& images)>;

// Runs `forward` under no-grad on every batch of epoch 0 of `loader`; `label` names the progress line (empty:
// no progress output, for callers that evaluate many subnets).
EvalResult evaluate(const ForwardFn& forward, data::Loader& loader, const std::string& label = "eval");

}  // namespace oqa::train
