// Stage initialisation: how a supernet stage starts from the previous stage's weights (bit inheritance, OQA).
#pragma once

#include <string>

#include "oqa/space/supernet.h"
#include "oqa/train/supernet_options.h"

namespace oqa::train {

// Prepares net (holding the previous stage's final weights) for a stage with quantization `quant`:
// - from "w<b>a<b>" to "w<b'>a<b'>" with b' < b: bit inheritance by `rule` on the searched layers' quantizers
//   (kData: nothing here);
// - otherwise (float -> quantized, up in bits, mixed): nothing here; LSQ initialises each step size from
//   data on its first use (the first training forward is the largest subnet).
// Returns a description for logs and summary.json.
std::string init_stage(space::Supernet& net, const std::string& previous_quant, const std::string& quant,
                       StepSizeRule rule = StepSizeRule::kData);

}  // namespace oqa::train
