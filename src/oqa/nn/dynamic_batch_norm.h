// DynamicBatchNorm2d: batch norm over the first C channels of its running statistics and affine parameters.
#pragma once

#include <cstdint>
#include <optional>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/static_model.h"

namespace oqa::nn {

struct DynamicBatchNorm2dOptions {
  /* implicit */ DynamicBatchNorm2dOptions(int64_t num_features) : num_features_(num_features) {}
  TORCH_ARG(int64_t, num_features);  // largest channel count
  TORCH_ARG(double, eps) = 1e-5;
  // Running-average momentum; std::nullopt = cumulative average over the batches seen since the last
  // reset_running_stats() (what BN recalibration of a freshly picked subnet uses).
  TORCH_ARG(std::optional<double>, momentum) = 0.1;
};

// Parameters and buffers carry torch::nn::BatchNorm2d's names (weight, bias, running_mean, running_var,
// num_batches_tracked). An input with C channels uses and (in train mode) updates the first C entries.
class DynamicBatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit DynamicBatchNorm2dImpl(DynamicBatchNorm2dOptions options);

  torch::Tensor forward(const torch::Tensor& x);
  void reset_running_stats();
  // The first `channels` entries, copied, for a static layer.
  StaticBatchNorm to_static(int64_t channels) const;

  DynamicBatchNorm2dOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(DynamicBatchNorm2d);

}  // namespace oqa::nn
