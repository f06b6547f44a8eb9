// Bit inheritance (OQA): initialise every quantizer's b'-bit entries from its b-bit entries.
#pragma once

#include <torch/nn/module.h>

namespace oqa::quant {

// For every Quantizer in model's tree (model included) and every entry at from_bits, sets the entry of
// the same form at to_bits: step size * 2^(from_bits - to_bits) (s_(b-1) = 2 * s_b), offset copied,
// initialised flags copied. Entries at to_bits are created if missing (build optimizers afterwards).
// Quantizers without any entry (float layers) are skipped. Throws oqa::util::Error when a quantizer
// that has entries has none at from_bits, or when no quantizer has one. Returns the number of entries set.
int inherit_bits(torch::nn::Module& model, int from_bits, int to_bits);

}  // namespace oqa::quant
