// DynamicMBConv: OFA's elastic inverted-residual block (1x1 expand, depthwise k x k, optional SE, 1x1
// project).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/activation.h"
#include "oqa/nn/dynamic_conv_bn_act.h"
#include "oqa/nn/dynamic_squeeze_excite.h"

namespace oqa::nn {

struct DynamicMBConvOptions {
  DynamicMBConvOptions(int64_t in_channels, int64_t out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(Activation, act) = Activation::kRelu;
  TORCH_ARG(bool, se) = false;
  TORCH_ARG(std::vector<int64_t>, kernel_choices) = std::vector<int64_t>{3, 5, 7};
  TORCH_ARG(std::vector<int64_t>, expand_choices) = std::vector<int64_t>{3, 4, 6};
  TORCH_ARG(int64_t,
            divisor) = 8;  // hidden channels = make_divisible(in * expand, divisor); in when expand 1
  TORCH_ARG(int64_t, se_reduction) = 4;
  TORCH_ARG(double, bn_eps) = 1e-5;
  TORCH_ARG(std::optional<double>, bn_momentum) = 0.1;
};

// Submodules: "expand" (absent when the largest expand ratio is 1), "dw", "se" (optional), "project".
// Residual connection when stride 1 and in == out. Expand ratio 1 skips the expand conv.
class DynamicMBConvImpl : public torch::nn::Module {
 public:
  explicit DynamicMBConvImpl(DynamicMBConvOptions options);

  static int64_t hidden_channels(int64_t in_channels, int64_t expand, int64_t divisor);
  void set_active(int64_t kernel_size, int64_t expand_ratio);
  bool has_residual() const;

  torch::Tensor forward(const torch::Tensor& x);
  // "oqa::nn::DynamicMBConv(16 -> 24, stride=2, kernel=5, expand=3, se)": the active kernel and expand ratio.
  void pretty_print(std::ostream& stream) const override;
  int to_static(StaticModel& model, int input, const std::string& name);

  DynamicMBConvOptions options;
  DynamicConvBnAct expand{nullptr}, dw{nullptr}, project{nullptr};
  DynamicSqueezeExcite se{nullptr};

 private:
  int64_t expand_ratio_ = 0;
};
TORCH_MODULE(DynamicMBConv);

}  // namespace oqa::nn
