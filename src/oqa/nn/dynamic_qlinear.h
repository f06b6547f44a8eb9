// DynamicQLinear: linear layer with elastic in/out features (first k) and LSQ fake-quantized weight and
// input.
#pragma once

#include <cstdint>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/nn/layer_quantizer.h"

namespace oqa::nn {

struct DynamicQLinearOptions {
  DynamicQLinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);   // largest
  TORCH_ARG(int64_t, out_features);  // largest
  TORCH_ARG(bool, bias) = true;
};

// Input [N, in] with in <= in_features (a 4-d input is flattened to [N, -1] first); weight [out, in].
class DynamicQLinearImpl : public torch::nn::Module {
 public:
  explicit DynamicQLinearImpl(DynamicQLinearOptions options);

  void set_active(int64_t out_features);  // 0 = largest
  int64_t active_out_features() const { return out_; }
  torch::Tensor active_weight(int64_t in_features) const;
  torch::Tensor active_bias() const;  // undefined without bias

  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;  // "...DynamicQLinear(in=128, out=10/10)"
  StaticLayer to_static(const StaticModel& model, int input) const;

  DynamicQLinearOptions options;
  torch::Tensor weight, bias;
  LayerQuantizer quantizer{nullptr};

 private:
  int64_t out_ = 0;
};
TORCH_MODULE(DynamicQLinear);

}  // namespace oqa::nn
