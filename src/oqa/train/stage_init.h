// Stage initialisation: how a supernet stage starts from the previous stage's weights (bit inheritance, OQA).
#pragma once

#include <string>

#include "oqa/space/supernet.h"

namespace oqa::train {

// How a stage with fewer bits than its parent sets its step sizes (supernet.stages[i].step_size_rule):
// kDouble: every b'-bit step size = 2^(b-b') x the b-bit one (OQA); kMinError: weights take the step size of
// least quantization error on the inherited weights, activations are doubled; kData: LSQ's initialisation
// from data on first use (2 mean|x| / sqrt(Qp)).
enum class StepSizeRule { kDouble, kMinError, kData };
// "double" | "min_error" | "data"; throws oqa::util::Error naming the field otherwise.
StepSizeRule parse_step_size_rule(const std::string& text);

// Prepares net (holding the previous stage's final weights) for a stage with quantization `quant`:
// - from "w<b>a<b>" to "w<b'>a<b'>" with b' < b: bit inheritance by `rule` on the searched layers' quantizers
//   (kData: nothing here);
// - otherwise (float -> quantized, up in bits, mixed): nothing here; LSQ initialises each step size from
//   data on its first use (the first training forward is the largest subnet).
// Returns a description for logs and summary.json.
std::string init_stage(space::Supernet& net, const std::string& previous_quant, const std::string& quant,
                       StepSizeRule rule = StepSizeRule::kData);

}  // namespace oqa::train
