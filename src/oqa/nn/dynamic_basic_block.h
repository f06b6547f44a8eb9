// DynamicBasicBlock: ResNet basic block with elastic widths (3x3 conv1 + ReLU, 3x3 conv2, shortcut, ReLU).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/dynamic_conv_bn_act.h"

namespace oqa::nn {

struct DynamicBasicBlockOptions {
  DynamicBasicBlockOptions(int64_t in_channels, int64_t mid_channels, int64_t out_channels)
      : in_channels_(in_channels), mid_channels_(mid_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);  // largest widths
  TORCH_ARG(int64_t, mid_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, kernel_size) = 3;
  TORCH_ARG(double, bn_eps) = 1e-5;
  TORCH_ARG(std::optional<double>, bn_momentum) = 0.1;
};

// Submodules "conv1", "conv2" and, when stride != 1 or in != out, "shortcut" (1x1 conv + BN, ResNet option
// B). Without a shortcut conv the input is added as it is, so the active input and output widths must agree.
class DynamicBasicBlockImpl : public torch::nn::Module {
 public:
  explicit DynamicBasicBlockImpl(DynamicBasicBlockOptions options);

  void set_active(int64_t mid_channels, int64_t out_channels);  // 0 = largest
  bool has_projection() const { return !shortcut.is_empty(); }

  torch::Tensor forward(const torch::Tensor& x);
  // The same with `mid` applied to conv1's output (after its ReLU) before conv2: neural channel expansion
  // mixes the candidates of the inner width there.
  torch::Tensor forward(const torch::Tensor& x, const std::function<torch::Tensor(const torch::Tensor&)>& mid);
  int to_static(StaticModel& model, int input, const std::string& name) const;

  DynamicBasicBlockOptions options;
  DynamicConvBnAct conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};
};
TORCH_MODULE(DynamicBasicBlock);

}  // namespace oqa::nn
