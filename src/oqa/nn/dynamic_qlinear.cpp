// DynamicQLinear: sliced, quantized linear layer and its static twin.
#include "oqa/nn/dynamic_qlinear.h"

#include <cmath>
#include <ostream>

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include "oqa/util/error.h"

namespace oqa::nn {

DynamicQLinearImpl::DynamicQLinearImpl(DynamicQLinearOptions o) : options(o) {
  if (o.in_features() < 1 || o.out_features() < 1)
    throw util::input_error("DynamicQLinear needs in_features and out_features >= 1")
        .field("features")
        .value(std::to_string(o.in_features()) + "x" + std::to_string(o.out_features()));
  weight = register_parameter("weight", torch::empty({o.out_features(), o.in_features()}));
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));  // torch::nn::Linear's init
  if (o.bias()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(o.in_features()));
    bias = register_parameter("bias", torch::empty({o.out_features()}).uniform_(-bound, bound));
  }
  quantizer = register_module("quantizer", LayerQuantizer(o.out_features()));
  set_active(0);
}

void DynamicQLinearImpl::set_active(int64_t out_features) {
  const int64_t out = out_features == 0 ? options.out_features() : out_features;
  if (out < 1 || out > options.out_features())
    throw util::input_error("active out_features must lie in [1, " + std::to_string(options.out_features()) +
                            "]")
        .field("out_features")
        .value(std::to_string(out));
  out_ = out;
}

torch::Tensor DynamicQLinearImpl::active_weight(int64_t in_features) const {
  if (in_features < 1 || in_features > options.in_features())
    throw util::input_error("input features must lie in [1, " + std::to_string(options.in_features()) + "]")
        .field("in_features")
        .value(std::to_string(in_features));
  return weight.narrow(0, 0, out_).narrow(1, 0, in_features);
}

torch::Tensor DynamicQLinearImpl::active_bias() const {
  return bias.defined() ? bias.narrow(0, 0, out_) : torch::Tensor();
}

torch::Tensor DynamicQLinearImpl::forward(const torch::Tensor& x) {
  torch::Tensor flat = x.flatten(1);
  torch::Tensor w = quantizer->quantize_weight(active_weight(flat.size(1)));
  return at::linear(quantizer->quantize_input(flat), w, active_bias());
}

void DynamicQLinearImpl::pretty_print(std::ostream& stream) const {
  stream << "oqa::nn::DynamicQLinear(in=" << options.in_features() << ", out=" << out_ << "/"
         << options.out_features() << ")";
}

StaticLayer DynamicQLinearImpl::to_static(const StaticModel& model, int input) const {
  StaticLayer l;
  l.op = StaticOp::kLinear;
  l.inputs = {input};
  l.weight = active_weight(model.out_channels(input)).detach().clone();
  if (bias.defined()) l.bias = active_bias().detach().clone();
  l.weight_quant = quantizer->static_weight(out_);
  l.input_quant = quantizer->static_input();
  return l;
}

}  // namespace oqa::nn
