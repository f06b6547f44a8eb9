// Activation functions and their names.
#include "oqa/nn/activation.h"

#include <ATen/ATen.h>

namespace oqa::nn {

torch::Tensor hswish(const torch::Tensor& x) {
  return at::hardswish(x);
}

torch::Tensor hsigmoid(const torch::Tensor& x) {
  return at::hardsigmoid(x);
}

torch::Tensor apply_activation(const torch::Tensor& x, Activation act) {
  switch (act) {
    case Activation::kNone: return x;
    case Activation::kRelu: return at::relu(x);
    case Activation::kHswish: return hswish(x);
    case Activation::kHsigmoid: return hsigmoid(x);
  }
  return x;
}

bool output_nonnegative(Activation act) {
  return act == Activation::kRelu || act == Activation::kHsigmoid;
}

std::string to_string(Activation act) {
  switch (act) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kHswish: return "hswish";
    case Activation::kHsigmoid: return "hsigmoid";
  }
  return "none";
}

std::optional<Activation> activation_from_name(const std::string& name) {
  for (Activation a : {Activation::kNone, Activation::kRelu, Activation::kHswish, Activation::kHsigmoid})
    if (to_string(a) == name) return a;
  return std::nullopt;
}

}  // namespace oqa::nn
