// DynamicSqueezeExcite: the gate computed on sliced 1x1 convs, and its static layers.
#include "oqa/nn/dynamic_squeeze_excite.h"

#include "oqa/nn/make_divisible.h"

namespace oqa::nn {
namespace {

DynamicConvBnActOptions gate_conv(int64_t in, int64_t out, Activation act) {
  return DynamicConvBnActOptions(DynamicQConv2dOptions(in, out, 1).bias(true)).batch_norm(false).act(act);
}

}  // namespace

DynamicSqueezeExciteImpl::DynamicSqueezeExciteImpl(DynamicSqueezeExciteOptions o) : options(o) {
  const int64_t mid = reduced_channels(o.channels());
  reduce = register_module("reduce", DynamicConvBnAct(gate_conv(o.channels(), mid, Activation::kRelu)));
  expand = register_module("expand", DynamicConvBnAct(gate_conv(mid, o.channels(), Activation::kHsigmoid)));
}

int64_t DynamicSqueezeExciteImpl::reduced_channels(int64_t channels) const {
  return make_divisible(static_cast<double>(channels / options.reduction()), options.divisor());
}

torch::Tensor DynamicSqueezeExciteImpl::forward(const torch::Tensor& x) {
  const int64_t c = x.size(1);
  reduce->conv->set_active(reduced_channels(c), 0);
  expand->conv->set_active(c, 0);
  torch::Tensor gate = expand->forward(reduce->forward(x.mean({2, 3}, /*keepdim=*/true)));
  return x * gate;
}

int DynamicSqueezeExciteImpl::to_static(StaticModel& model, int input, const std::string& name) {
  const int64_t c = model.out_channels(input);
  reduce->conv->set_active(reduced_channels(c), 0);
  expand->conv->set_active(c, 0);
  int id = model.add_global_avg_pool(input, name + ".pool");
  id = reduce->to_static(model, id, name + ".reduce");
  id = expand->to_static(model, id, name + ".expand");
  return model.add_binary(StaticOp::kMul, input, id, name + ".scale");
}

}  // namespace oqa::nn
