// Activations of the elastic networks (ReLU, h-swish, h-sigmoid) by name, and whether their output is >= 0.
#pragma once

#include <optional>
#include <string>

#include <torch/types.h>

namespace oqa::nn {

enum class Activation { kNone, kRelu, kHswish, kHsigmoid };

// h-swish(x) = x * relu6(x + 3) / 6 (MobileNetV3); its minimum is -0.375, so its output can be negative.
torch::Tensor hswish(const torch::Tensor& x);
// h-sigmoid(x) = relu6(x + 3) / 6, in [0, 1].
torch::Tensor hsigmoid(const torch::Tensor& x);
torch::Tensor apply_activation(const torch::Tensor& x, Activation act);

// True when the activation's output is never negative (ReLU, h-sigmoid): the next layer's input quantizer
// can then be unsigned.
bool output_nonnegative(Activation act);

// "none", "relu", "hswish", "hsigmoid"; activation_from_name gives std::nullopt for any other name.
std::string to_string(Activation act);
std::optional<Activation> activation_from_name(const std::string& name);

}  // namespace oqa::nn
