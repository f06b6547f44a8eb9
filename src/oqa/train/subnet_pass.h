// SubnetPass: one subnet's share of a supernet training step (activate, forward, loss, backward), and the
// step's common end (WDR term, metrics) used by the sandwich and GPG steps.
#pragma once

#include <cmath>

#include <functional>
#include <vector>

#include <torch/types.h>

#include "oqa/space/supernet.h"
#include "oqa/train/loop.h"

namespace oqa::train {

// Loss settings shared by the sandwich and GPG steps.
struct DistillOptions {
  double label_smoothing = 0.1;  // CE of the largest subnet
  double kd_ce_weight = 0.0;     // sandwich: hard-label CE weight added to each student's KD loss
  double wdr_weight = 0.0;       // WDR loss weight (0 = off)
};

struct SubnetPass {
  torch::Tensor logits;  // detached
  double loss = 0;       // loss(logits), without the WDR term
  double top1 = 0;       // percent of the batch classified right
  double wdr = 0;        // the weighted WDR term included in loss (0 when off or at a float subnet)
  // Shape of the weights this forward quantized (wdr_weights), whether WDR is on or not: the mean over layers
  // of their kurtosis and of |skewness|; NaN at a float subnet.
  double weight_kurtosis = std::nan("");
  double weight_abs_skewness = std::nan("");
};

using SubnetLossFn = std::function<torch::Tensor(const torch::Tensor& logits)>;

// Activates subnet, runs images through the supernet, backpropagates loss(logits) plus wdr_weight x the WDR
// loss of the weights this forward quantized (wdr_weights; gradients accumulate).
SubnetPass run_subnet(space::Supernet& net, const space::Subnet& subnet, const torch::Tensor& images,
                      const torch::Tensor& labels, const SubnetLossFn& loss, double wdr_weight = 0.0);

// The step's total loss and metrics: loss_largest, loss_smallest, train_top1_largest, train_top1_smallest
// (passes.front() is the largest, passes.back() the smallest), when WDR is on wdr (summed over passes), and in a
// quantized stage weight_kurtosis and weight_abs_skewness of the largest subnet's quantized weights.
StepResult finish_step(const std::vector<SubnetPass>& passes, const DistillOptions& o);

}  // namespace oqa::train
