// ResNetSupernet: the elastic-width quantized basic-block ResNet of a ResNetSpace.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>

#include "oqa/nn/dynamic_basic_block.h"
#include "oqa/nn/dynamic_conv_bn_act.h"
#include "oqa/nn/dynamic_qlinear.h"
#include "oqa/space/resnet_space.h"
#include "oqa/space/supernet.h"

namespace oqa::space {

// stem (conv-BN-ReLU) -> stages[s][b] (basic blocks) -> global average pool -> classifier. Every conv is
// allocated at its width group's largest candidate; a subnet uses the first `width` channels.
class ResNetSupernet : public Supernet {
 public:
  explicit ResNetSupernet(std::shared_ptr<const ResNetSpace> space);

  nn::DynamicConvBnAct stem{nullptr};
  torch::nn::ModuleList stages{nullptr};
  nn::DynamicQLinear classifier{nullptr};

  // mix(group, y) rewrites the output y of every layer of a width group (the stem, conv1 of a block, a
  // block's sum after its ReLU) before the next layer reads it.
  using ChannelMix = std::function<torch::Tensor(size_t group, const torch::Tensor& y)>;
  // The active subnet's forward (input resized like forward) with every width group's outputs passed
  // through mix: neural channel expansion's differentiable width search on the largest allocation.
  torch::Tensor forward_mixed(const torch::Tensor& x, const ChannelMix& mix);

 protected:
  void apply_arch(const Subnet& subnet) override;
  torch::Tensor forward_active(const torch::Tensor& x) override;
  void append_static(nn::StaticModel& model) override;

 private:
  const ResNetSpace& resnet_;
  std::vector<nn::DynamicBasicBlock> blocks_;  // in ResNetSpace::blocks() order
};

}  // namespace oqa::space
