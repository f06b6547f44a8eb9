// DynamicBasicBlock: elastic-width residual block, forward and static extraction.
#include "oqa/nn/dynamic_basic_block.h"

#include <ATen/ATen.h>

#include "oqa/util/error.h"

namespace oqa::nn {

DynamicBasicBlockImpl::DynamicBasicBlockImpl(DynamicBasicBlockOptions o) : options(o) {
  auto unit = [&](DynamicQConv2dOptions conv, Activation act) {
    return DynamicConvBnAct(
        DynamicConvBnActOptions(std::move(conv)).act(act).bn_eps(o.bn_eps()).bn_momentum(o.bn_momentum()));
  };
  const int64_t k = o.kernel_size();
  conv1 = register_module("conv1",
                          unit(DynamicQConv2dOptions(o.in_channels(), o.mid_channels(), k).stride(o.stride()),
                               Activation::kRelu));
  conv2 = register_module(
      "conv2", unit(DynamicQConv2dOptions(o.mid_channels(), o.out_channels(), k), Activation::kNone));
  if (o.stride() != 1 || o.in_channels() != o.out_channels())
    shortcut = register_module(
        "shortcut", unit(DynamicQConv2dOptions(o.in_channels(), o.out_channels(), 1).stride(o.stride()),
                         Activation::kNone));
}

void DynamicBasicBlockImpl::set_active(int64_t mid_channels, int64_t out_channels) {
  conv1->conv->set_active(mid_channels, 0);
  conv2->conv->set_active(out_channels, 0);
  if (shortcut) shortcut->conv->set_active(out_channels, 0);
}

torch::Tensor DynamicBasicBlockImpl::forward(const torch::Tensor& x) { return forward(x, nullptr); }

torch::Tensor DynamicBasicBlockImpl::forward(const torch::Tensor& x,
                                             const std::function<torch::Tensor(const torch::Tensor&)>& mid) {
  torch::Tensor h = conv1->forward(x);
  torch::Tensor y = conv2->forward(mid ? mid(h) : h);
  torch::Tensor s = shortcut ? shortcut->forward(x) : x;
  if (s.size(1) != y.size(1))
    throw util::input_error("identity shortcut needs equal input and output widths")
        .field("out_channels")
        .value(std::to_string(y.size(1)) + " vs input " + std::to_string(s.size(1)));
  return at::relu(y + s);
}

int DynamicBasicBlockImpl::to_static(StaticModel& model, int input, const std::string& name) const {
  int y = conv1->to_static(model, input, name + ".conv1");
  y = conv2->to_static(model, y, name + ".conv2");
  const int s = shortcut ? shortcut->to_static(model, input, name + ".shortcut") : input;
  return model.add_binary(StaticOp::kAdd, y, s, name + ".add", Activation::kRelu);
}

}  // namespace oqa::nn
