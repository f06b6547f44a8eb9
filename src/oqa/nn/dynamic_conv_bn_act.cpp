// DynamicConvBnAct: conv, batch norm and activation in sequence, and their fused static layer.
#include "oqa/nn/dynamic_conv_bn_act.h"

namespace oqa::nn {

DynamicConvBnActImpl::DynamicConvBnActImpl(DynamicConvBnActOptions o) : options(std::move(o)) {
  conv = register_module("conv", DynamicQConv2d(options.conv()));
  if (options.batch_norm())
    bn = register_module("bn", DynamicBatchNorm2d(DynamicBatchNorm2dOptions(options.conv().out_channels())
                                                      .eps(options.bn_eps())
                                                      .momentum(options.bn_momentum())));
}

torch::Tensor DynamicConvBnActImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = conv->forward(x);
  if (bn) y = bn->forward(y);
  return apply_activation(y, options.act());
}

int DynamicConvBnActImpl::to_static(StaticModel& model, int input, const std::string& name) const {
  StaticLayer l = conv->to_static(model, input);
  l.name = name;
  if (bn) l.batch_norm = bn->to_static(l.weight.size(0));
  l.act = options.act();
  return model.add(std::move(l));
}

}  // namespace oqa::nn
