// WDR loss (EQ-Net): pushes each weight tensor's distribution towards a uniform one (kurtosis 1.8, no skew).
#pragma once

#include <vector>

#include <torch/types.h>

#include "oqa/space/supernet.h"

namespace oqa::train {

struct WdrOptions {
  double kurtosis_target = 1.8;  // kurtosis of a uniform distribution
  double kurtosis_weight = 0.015;
  double skewness_weight = 1.0;
};

// Skewness E[((w - mean) / std)^3] and kurtosis E[((w - mean) / std)^4] of all elements of w (population std).
torch::Tensor skewness(const torch::Tensor& w);
torch::Tensor kurtosis(const torch::Tensor& w);

// kurtosis_weight * mean_i (kurtosis(W_i) - target)^2 + skewness_weight * mean_i skewness(W_i)^2.
torch::Tensor wdr_loss(const std::vector<torch::Tensor>& weights, const WdrOptions& options = {});

// The weights WDR regularises (EQ-Net): the float weights the last Supernet::forward quantized in the
// layers whose precision is searched (sliced to the active channels and kernel, with their autograd
// history), in slot order; not the stem (the first layer), not fixed-precision or float layers, not layers
// outside the active depth. Empty after a float subnet's forward.
std::vector<torch::Tensor> wdr_weights(const space::Supernet& net);

}  // namespace oqa::train
