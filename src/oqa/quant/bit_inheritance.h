// Bit inheritance (OQA): initialise every quantizer's b'-bit entries from its b-bit entries.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include "oqa/quant/quant_spec.h"

namespace oqa::quant {

// For every Quantizer in model's tree (model included) and every entry at from_bits, sets the entry of
// the same form at to_bits: step size * 2^(from_bits - to_bits) (s_(b-1) = 2 * s_b), offset copied,
// initialised flags copied. Entries at to_bits are created if missing (build optimizers afterwards).
// Quantizers without any entry (float layers) are skipped. Throws oqa::util::Error when a quantizer
// that has entries has none at from_bits, or when no quantizer has one. Returns the number of entries set.
int inherit_bits(torch::nn::Module& model, int from_bits, int to_bits);

// The step size(s) that minimise the quantization error sum (w - Q(w; s, beta))^2 of the weights w at the
// levels of `spec` (per tensor: [1]; per channel along spec.axis: [C]), with the offset beta (undefined:
// 0) kept. Searched over s = f * start for `points` factors f spaced evenly in log between 1/4 and 2 (the
// argmin of a finite grid: start is the doubled step of bit inheritance, which the best step lies under
// for every bell-shaped weight distribution at 2..4 bits); start holds one value per table element.
torch::Tensor min_error_step_size(const torch::Tensor& w, const QuantSpec& spec, const torch::Tensor& start,
                                  const torch::Tensor& offset = {}, int points = 97);

}  // namespace oqa::quant
