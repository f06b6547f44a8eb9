// DynamicQConv2d: elastic conv (kernel 7/5/3 by learned transforms, first-k channel slicing, depthwise or
// grouped) whose active weight and input are LSQ fake-quantized with shared step sizes.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/layer_quantizer.h"

namespace oqa::nn {

struct DynamicQConv2dOptions {
  DynamicQConv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);   // largest input channels
  TORCH_ARG(int64_t, out_channels);  // largest output channels
  TORCH_ARG(int64_t, kernel_size);   // largest kernel (odd); the stored weight has this size
  // Elastic kernel sizes (odd, <= kernel_size). Each step down from one size to the next smaller one has a
  // learned [k'^2, k'^2] transform (identity init) applied to the centre k' x k' crop. Empty: fixed kernel.
  TORCH_ARG(std::vector<int64_t>, kernel_choices) = {};
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, groups) = 1;      // fixed group count (ignored when depthwise)
  TORCH_ARG(bool, depthwise) = false;  // groups = active channels, out = in
  TORCH_ARG(bool, bias) = false;
};

// Padding is kernel_size / 2 ("same" at stride 1). The active input channels are the input's; the active
// output channels and kernel are set with set_active. Weight layout [C_out, C_in / groups, k, k].
class DynamicQConv2dImpl : public torch::nn::Module {
 public:
  explicit DynamicQConv2dImpl(DynamicQConv2dOptions options);

  // out_channels 0 = largest; kernel_size 0 = largest. Depthwise convs ignore out_channels (out = in).
  void set_active(int64_t out_channels, int64_t kernel_size);
  int64_t active_out_channels(int64_t in_channels) const;
  int64_t active_kernel_size() const { return kernel_; }
  int64_t active_groups(int64_t in_channels) const;

  // The active float weight for an input with in_channels channels: sliced, then transformed down to the
  // active kernel size (differentiable in weight and the transforms).
  torch::Tensor active_weight(int64_t in_channels) const;
  torch::Tensor active_bias(int64_t in_channels) const;  // undefined without bias

  torch::Tensor forward(const torch::Tensor& x);
  // "oqa::nn::DynamicQConv2d(in=24, out=16/24, kernel=3/5, stride=1)": active / largest where elastic.
  void pretty_print(std::ostream& stream) const override;

  // This conv as a static layer reading layer `input` of model (active choices, current specs, step sizes
  // cut to the active channels). The caller adds batch norm and activation, then appends it.
  StaticLayer to_static(const StaticModel& model, int input) const;

  // The transform that maps the centre crop of kernel `from` to kernel `to` (registered
  // "transform_<from>to<to>").
  const torch::Tensor& transform(int64_t from, int64_t to) const;

  DynamicQConv2dOptions options;
  torch::Tensor weight, bias;
  LayerQuantizer quantizer{nullptr};

 private:
  std::vector<int64_t> kernels_;                 // descending, starting with options.kernel_size()
  std::map<int64_t, torch::Tensor> transforms_;  // keyed by the target kernel
  int64_t out_ = 0, kernel_ = 0;
};
TORCH_MODULE(DynamicQConv2d);

}  // namespace oqa::nn
