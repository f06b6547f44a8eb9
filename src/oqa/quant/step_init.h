// LSQ initial values: step size 2*mean|x|/sqrt(Qp), offset, and the gradient scale 1/sqrt(N*Qp).
#pragma once

#include <torch/types.h>

#include "oqa/quant/quant_spec.h"

namespace oqa::quant {

// Smallest step size init_step_size returns (an all-zero tensor would otherwise give 0).
inline constexpr double kMinStepSize = 1e-8;

// s = 2 * mean(|x|) / sqrt(Qp), per tensor ([1]) or per channel along spec.axis ([C]); at least min_step.
torch::Tensor init_step_size(const torch::Tensor& x, const QuantSpec& spec, double min_step = kMinStepSize);

// Initial LSQ+ offset beta, same shape rules as init_step_size: 0 for signed specs; min(0, min(x)) for
// unsigned specs (so a tensor with negative values, e.g. after h-swish, keeps them in range).
torch::Tensor init_offset(const torch::Tensor& x, const QuantSpec& spec);

// g = 1 / sqrt(N * Qp), N = elements that share one step size (x.numel(), or x.numel() / C per channel).
double grad_scale_for(const torch::Tensor& x, const QuantSpec& spec);

}  // namespace oqa::quant
