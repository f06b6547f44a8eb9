// DynamicSqueezeExcite: elastic squeeze-and-excite (pool, 1x1 reduce + ReLU, 1x1 expand + h-sigmoid, scale).
#pragma once

#include <cstdint>
#include <string>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/dynamic_conv_bn_act.h"

namespace oqa::nn {

struct DynamicSqueezeExciteOptions {
  /* implicit */ DynamicSqueezeExciteOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);  // largest
  TORCH_ARG(int64_t, reduction) = 4;
  TORCH_ARG(int64_t, divisor) = 8;  // reduced channels = make_divisible(C / reduction, divisor)
};

// For an input with C channels the reduce conv uses the first make_divisible(C / reduction) filters over the
// first C inputs and the expand conv the first C filters. Both convs have bias and no batch norm; they are
// float unless their quantizers get specs ("reduce", "expand").
class DynamicSqueezeExciteImpl : public torch::nn::Module {
 public:
  explicit DynamicSqueezeExciteImpl(DynamicSqueezeExciteOptions options);

  int64_t reduced_channels(int64_t channels) const;
  torch::Tensor forward(const torch::Tensor& x);
  // Appends pool, reduce, expand and the scaling multiply; returns the multiply's index.
  int to_static(StaticModel& model, int input, const std::string& name);

  DynamicSqueezeExciteOptions options;
  DynamicConvBnAct reduce{nullptr}, expand{nullptr};
};
TORCH_MODULE(DynamicSqueezeExcite);

}  // namespace oqa::nn
