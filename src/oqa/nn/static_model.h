// StaticModel: a plain, non-elastic quantized network as an explicit layer list (what extraction yields and
// what exporters and cost counters walk without knowing LibTorch modules).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include "oqa/nn/activation.h"
#include "oqa/quant/quant_spec.h"

namespace oqa::nn {

// One fake-quantized tensor: its spec and learned values. Float spec: step_size and offset undefined.
// step_size has 1 element (per-tensor) or one per output channel (per-channel weights, axis 0);
// offset is defined only for asymmetric specs, same length as step_size.
struct StaticQuant {
  quant::QuantSpec spec = quant::QuantSpec::float_spec();
  torch::Tensor step_size;
  torch::Tensor offset;
};

// Inference batch norm on the layer's output: y = (x - running_mean) / sqrt(running_var + eps) * weight +
// bias.
struct StaticBatchNorm {
  torch::Tensor weight, bias, running_mean, running_var;  // [C_out] each
  double eps = 1e-5;
};

enum class StaticOp {
  kConv,           // y = act(bn(conv2d(q_in(x), q_w(weight), bias, stride, padding, groups)))
  kLinear,         // y = act(linear(q_in(flatten(x)), q_w(weight), bias)); x is flattened to [N, -1] first
  kAdd,            // y = act(inputs[0] + inputs[1])
  kMul,            // y = inputs[0] * inputs[1] (broadcast: squeeze-excite gate [N, C, 1, 1])
  kGlobalAvgPool,  // y = mean over H and W, kept as [N, C, 1, 1]
};

struct StaticLayer {
  StaticOp op = StaticOp::kConv;
  std::string name;         // the supernet layer it came from, e.g. "stages.1.blocks.0.dw"
  std::vector<int> inputs;  // indices of earlier layers; -1 = the model input (after resizing)
  // kConv / kLinear only:
  torch::Tensor weight;  // conv [C_out, C_in / groups, k, k] (kernel already transformed), linear [out, in]
  torch::Tensor bias;    // [C_out] or undefined
  int64_t stride = 1, padding = 0, groups = 1;
  StaticQuant weight_quant;  // signed; per-channel along axis 0 or per-tensor
  StaticQuant input_quant;   // quantizes the layer's input before the op
  std::optional<StaticBatchNorm> batch_norm;
  // kConv, kLinear and kAdd: applied last.
  Activation act = Activation::kNone;
};

std::string to_string(StaticOp op);  // "conv", "linear", "add", "mul", "global_avg_pool"

class StaticModel {
 public:
  StaticModel(int64_t in_channels, int64_t resolution) : in_channels_(in_channels), resolution_(resolution) {}

  int64_t in_channels() const { return in_channels_; }
  int64_t resolution() const { return resolution_; }
  const std::vector<StaticLayer>& layers() const { return layers_; }

  // Appends a layer (its inputs must be earlier layers or -1) and returns its index.
  int add(StaticLayer layer);
  int add_global_avg_pool(int input, std::string name);
  // kAdd or kMul of two earlier layers.
  int add_binary(StaticOp op, int a, int b, std::string name, Activation act = Activation::kNone);
  // Channels of a layer's output (-1: the model input).
  int64_t out_channels(int index) const;

  // Resizes x to resolution() x resolution() when needed (bilinear), runs every layer in order and returns
  // the last layer's output.
  torch::Tensor forward(const torch::Tensor& x) const;
  // Same, returning every layer's output (index i = layer i).
  std::vector<torch::Tensor> forward_all(const torch::Tensor& x) const;
  // Runs one layer on its input tensors (inputs.size() = layer.inputs.size()).
  static torch::Tensor run_layer(const StaticLayer& layer, const std::vector<torch::Tensor>& inputs);

  // A copy with every tensor on device (no copy of tensors already there).
  StaticModel to(const torch::Device& device) const;

  // Summary: per layer op, name, inputs, weight shape, stride, padding, groups, activation and quant keys.
  nlohmann::json describe() const;

 private:
  int64_t in_channels_, resolution_;
  std::vector<StaticLayer> layers_;
};

}  // namespace oqa::nn
