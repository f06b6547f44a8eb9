// DynamicConvBnAct: DynamicQConv2d, optional DynamicBatchNorm2d and an activation, as one static layer.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/activation.h"
#include "oqa/nn/dynamic_batch_norm.h"
#include "oqa/nn/dynamic_qconv2d.h"

namespace oqa::nn {

struct DynamicConvBnActOptions {
  /* implicit */ DynamicConvBnActOptions(DynamicQConv2dOptions conv) : conv_(std::move(conv)) {}
  TORCH_ARG(DynamicQConv2dOptions, conv);
  TORCH_ARG(bool, batch_norm) = true;
  TORCH_ARG(double, bn_eps) = 1e-5;
  TORCH_ARG(std::optional<double>, bn_momentum) = 0.1;
  TORCH_ARG(Activation, act) = Activation::kNone;
};

// Registered as "conv" and "bn".
class DynamicConvBnActImpl : public torch::nn::Module {
 public:
  explicit DynamicConvBnActImpl(DynamicConvBnActOptions options);

  torch::Tensor forward(const torch::Tensor& x);
  // Appends the active conv (+ batch norm + activation) to model; returns the new layer's index.
  int to_static(StaticModel& model, int input, const std::string& name) const;

  DynamicConvBnActOptions options;
  DynamicQConv2d conv{nullptr};
  DynamicBatchNorm2d bn{nullptr};
};
TORCH_MODULE(DynamicConvBnAct);

}  // namespace oqa::nn
