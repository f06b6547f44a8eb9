// StaticModel: layer bookkeeping, the reference forward pass and the JSON summary.
#include "oqa/nn/static_model.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "oqa/data/transforms.h"
#include "oqa/quant/lsq.h"
#include "oqa/util/error.h"

namespace oqa::nn {
namespace {

torch::Tensor fake_quantize(const torch::Tensor& x, const StaticQuant& q) {
  if (q.spec.is_float()) return x;
  return quant::lsq_quantize(x, q.step_size, q.offset, q.spec, /*grad_scale=*/1.0);
}

// Batch norm (inference statistics, when the layer has one) then the activation: the epilogue of a conv or
// linear layer, as the integer runtime and the exports apply it.
torch::Tensor epilogue(const StaticLayer& l, torch::Tensor y) {
  if (l.batch_norm) {
    const StaticBatchNorm& bn = *l.batch_norm;
    y = at::batch_norm(y, bn.weight, bn.bias, bn.running_mean, bn.running_var, /*training=*/false, 0.0,
                       bn.eps,
                       /*cudnn_enabled=*/true);
  }
  return apply_activation(y, l.act);
}

torch::Tensor run_conv(const StaticLayer& l, const torch::Tensor& x) {
  return epilogue(l, at::conv2d(fake_quantize(x, l.input_quant), fake_quantize(l.weight, l.weight_quant), l.bias,
                                {l.stride, l.stride}, {l.padding, l.padding}, {1, 1}, l.groups));
}

torch::Tensor run_linear(const StaticLayer& l, const torch::Tensor& x) {
  torch::Tensor flat = x.flatten(1);
  return epilogue(l, at::linear(fake_quantize(flat, l.input_quant), fake_quantize(l.weight, l.weight_quant), l.bias));
}

}  // namespace

std::string to_string(StaticOp op) {
  switch (op) {
    case StaticOp::kConv: return "conv";
    case StaticOp::kLinear: return "linear";
    case StaticOp::kAdd: return "add";
    case StaticOp::kMul: return "mul";
    case StaticOp::kGlobalAvgPool: return "global_avg_pool";
  }
  return "conv";
}

int StaticModel::add(StaticLayer layer) {
  const int index = static_cast<int>(layers_.size());
  for (int i : layer.inputs) OQA_ASSERT(i >= -1 && i < index, "static layer input must be an earlier layer");
  const size_t arity = (layer.op == StaticOp::kAdd || layer.op == StaticOp::kMul) ? 2 : 1;
  OQA_ASSERT(layer.inputs.size() == arity, "static layer " + layer.name + " has the wrong number of inputs");
  layers_.push_back(std::move(layer));
  return index;
}

int StaticModel::add_global_avg_pool(int input, std::string name) {
  StaticLayer l;
  l.op = StaticOp::kGlobalAvgPool;
  l.name = std::move(name);
  l.inputs = {input};
  return add(std::move(l));
}

int StaticModel::add_binary(StaticOp op, int a, int b, std::string name, Activation act) {
  OQA_ASSERT(op == StaticOp::kAdd || op == StaticOp::kMul, "add_binary takes kAdd or kMul");
  StaticLayer l;
  l.op = op;
  l.name = std::move(name);
  l.inputs = {a, b};
  l.act = act;
  return add(std::move(l));
}

int64_t StaticModel::out_channels(int index) const {
  if (index < 0) return in_channels_;
  const StaticLayer& l = layers_.at(static_cast<size_t>(index));
  if (l.op == StaticOp::kConv || l.op == StaticOp::kLinear) return l.weight.size(0);
  return out_channels(l.inputs.front());
}

torch::Tensor StaticModel::run_layer(const StaticLayer& l, const std::vector<torch::Tensor>& in) {
  OQA_ASSERT(in.size() == l.inputs.size(), "static layer " + l.name + " got the wrong number of inputs");
  switch (l.op) {
    case StaticOp::kConv: return run_conv(l, in[0]);
    case StaticOp::kLinear: return run_linear(l, in[0]);
    case StaticOp::kAdd: return apply_activation(in[0] + in[1], l.act);
    case StaticOp::kMul: return in[0] * in[1];
    case StaticOp::kGlobalAvgPool: return in[0].mean({2, 3}, /*keepdim=*/true);
  }
  return in[0];
}

std::vector<torch::Tensor> StaticModel::forward_all(const torch::Tensor& x) const {
  OQA_ASSERT(!layers_.empty(), "static model has no layers");
  const torch::Tensor input = data::resize_batch(x, resolution_);
  std::vector<torch::Tensor> outs;
  outs.reserve(layers_.size());
  std::vector<torch::Tensor> args;
  for (const StaticLayer& l : layers_) {
    args.clear();
    for (int i : l.inputs) args.push_back(i < 0 ? input : outs[static_cast<size_t>(i)]);
    outs.push_back(run_layer(l, args));
  }
  return outs;
}

torch::Tensor StaticModel::forward(const torch::Tensor& x) const {
  return forward_all(x).back();
}

nlohmann::json StaticModel::describe() const {
  nlohmann::json layers = nlohmann::json::array();
  for (const StaticLayer& l : layers_) {
    nlohmann::json j{{"op", to_string(l.op)}, {"name", l.name}, {"inputs", l.inputs}};
    if (l.op == StaticOp::kConv || l.op == StaticOp::kLinear) {
      j["weight"] = l.weight.sizes().vec();
      j["bias"] = l.bias.defined();
      j["batch_norm"] = l.batch_norm.has_value();
      j["weight_quant"] = l.weight_quant.spec.key();
      j["input_quant"] = l.input_quant.spec.key();
    }
    if (l.op == StaticOp::kConv)
      j.update({{"stride", l.stride}, {"padding", l.padding}, {"groups", l.groups}});
    if (l.op != StaticOp::kMul && l.op != StaticOp::kGlobalAvgPool) j["act"] = to_string(l.act);
    layers.push_back(std::move(j));
  }
  return {{"in_channels", in_channels_}, {"resolution", resolution_}, {"layers", std::move(layers)}};
}

namespace {

void move(torch::Tensor& t, const torch::Device& device) {
  if (t.defined()) t = t.to(device);
}

void move(StaticQuant& q, const torch::Device& device) {
  move(q.step_size, device);
  move(q.offset, device);
}

}  // namespace

StaticModel StaticModel::to(const torch::Device& device) const {
  StaticModel out = *this;
  for (StaticLayer& l : out.layers_) {
    move(l.weight, device);
    move(l.bias, device);
    move(l.weight_quant, device);
    move(l.input_quant, device);
    if (l.batch_norm)
      for (torch::Tensor* t : {&l.batch_norm->weight, &l.batch_norm->bias, &l.batch_norm->running_mean,
                               &l.batch_norm->running_var})
        move(*t, device);
  }
  return out;
}

}  // namespace oqa::nn
