// BaselineCnn: the small float CNN that the stage-1 quickstart trains on 28-32 px images.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

namespace oqa::nn {

struct BaselineCnnOptions {
  int64_t in_channels = 1;
  int64_t num_classes = 10;
  int64_t width = 32;  // channels of the first conv; later convs use 2x and 4x
};

// conv3x3(w)-BN-ReLU, conv3x3(2w)-BN-ReLU, maxpool, conv3x3(4w)-BN-ReLU, maxpool, conv3x3(4w)-BN-ReLU,
// global average pool, linear.
class BaselineCnnImpl : public torch::nn::Module {
 public:
  explicit BaselineCnnImpl(BaselineCnnOptions options);
  torch::Tensor forward(const torch::Tensor& x);
  const BaselineCnnOptions& options() const { return options_; }

 private:
  BaselineCnnOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(BaselineCnn);

}  // namespace oqa::nn
