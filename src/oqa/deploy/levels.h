// Integer levels of a fake-quantized tensor: the integers a deployed model stores in place of its floats.
#pragma once

#include <torch/types.h>

#include "oqa/nn/static_model.h"

namespace oqa::deploy {

// v = clamp(round_half_even((x - beta) / s), Qn, Qp) as an int32 tensor of x's shape, computed from the
// fake-quantized values so that v * s + beta reproduces StaticModel's forward exactly. Per-channel specs
// broadcast step and offset along q.spec.axis. q must not be a float spec.
torch::Tensor integer_levels(const torch::Tensor& x, const nn::StaticQuant& q);

// step and offset of q shaped to broadcast against a tensor of `dim` dimensions along q.spec.axis.
torch::Tensor broadcast_param(const torch::Tensor& p, const nn::StaticQuant& q, int64_t dim);

}  // namespace oqa::deploy
