// Mbv3Supernet: the elastic quantized MobileNetV3 supernet of an Mbv3Space.
#pragma once

#include <memory>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>

#include "oqa/nn/dynamic_conv_bn_act.h"
#include "oqa/nn/dynamic_mbconv.h"
#include "oqa/nn/dynamic_qlinear.h"
#include "oqa/space/mbv3_space.h"
#include "oqa/space/supernet.h"

namespace oqa::space {

// stem (conv-BN-act) -> first block (MBConv, fixed kernel / expand) -> stages[s][j] (elastic MBConv; the
// first `depth` blocks of a stage run) -> final_expand (1x1-BN-act) -> global average pool -> feature_mix
// (1x1-act)
// -> classifier (linear). Module paths equal the space's layer slot names ("stages.2.1.dw").
class Mbv3Supernet : public Supernet {
 public:
  explicit Mbv3Supernet(std::shared_ptr<const Mbv3Space> space);

  nn::DynamicMBConv block(size_t stage, size_t index) const { return blocks_.at(stage).at(index); }

  nn::DynamicConvBnAct stem{nullptr};
  nn::DynamicMBConv first{nullptr};
  torch::nn::ModuleList stages{nullptr};
  nn::DynamicConvBnAct final_expand{nullptr}, feature_mix{nullptr};
  nn::DynamicQLinear classifier{nullptr};

 protected:
  void apply_arch(const Subnet& subnet) override;
  torch::Tensor forward_active(const torch::Tensor& x) override;
  void append_static(nn::StaticModel& model) override;

 private:
  std::vector<std::vector<nn::DynamicMBConv>> blocks_;
  std::vector<int64_t> depth_;
};

}  // namespace oqa::space
