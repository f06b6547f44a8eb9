// Stage initialisation: how a supernet stage starts from the previous stage's weights (bit inheritance, OQA).
#pragma once

#include <string>

#include "oqa/space/supernet.h"

namespace oqa::train {

// Prepares net (holding the previous stage's final weights) for a stage with quantization `quant`:
// - from "w<b>a<b>" to "w<b'>a<b'>" with b' < b and inherit_step_sizes: bit inheritance, every b'-bit step
//   size = 2^(b-b') x the b-bit one (quant::inherit_bits on the searched layers' quantizers);
// - otherwise (float -> quantized, up in bits, mixed, or inheritance turned off): nothing here; LSQ
//   initialises each step size from data on its first use (2 mean|x| / sqrt(Qp); the first training forward
//   is the largest subnet).
// Returns a description for logs and summary.json.
std::string init_stage(space::Supernet& net, const std::string& previous_quant, const std::string& quant,
                       bool inherit_step_sizes = true);

}  // namespace oqa::train
