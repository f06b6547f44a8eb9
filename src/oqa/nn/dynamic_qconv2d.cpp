// DynamicQConv2d: parameters, elastic kernel transforms, channel slicing, quantized forward, extraction.
#include "oqa/nn/dynamic_qconv2d.h"

#include <algorithm>
#include <functional>
#include <ostream>
#include <string>

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include "oqa/nn/depthwise_conv.h"

#include "oqa/util/error.h"

namespace oqa::nn {
namespace {

std::string list_text(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

void check_options(const DynamicQConv2dOptions& o) {
  auto bad = [](const char* field, int64_t v, const std::string& why) {
    return util::input_error("DynamicQConv2d: " + why).field(field).value(std::to_string(v));
  };
  if (o.in_channels() < 1) throw bad("in_channels", o.in_channels(), "must be >= 1");
  if (o.out_channels() < 1) throw bad("out_channels", o.out_channels(), "must be >= 1");
  if (o.kernel_size() < 1 || o.kernel_size() % 2 == 0)
    throw bad("kernel_size", o.kernel_size(), "must be odd");
  if (o.stride() < 1) throw bad("stride", o.stride(), "must be >= 1");
  for (int64_t k : o.kernel_choices())
    if (k < 1 || k % 2 == 0 || k > o.kernel_size())
      throw bad("kernel_choices", k, "must be odd and <= kernel_size " + std::to_string(o.kernel_size()));
  if (o.depthwise() && o.in_channels() != o.out_channels())
    throw bad("out_channels", o.out_channels(), "a depthwise conv needs out_channels == in_channels");
  if (!o.depthwise() && (o.groups() < 1 || o.in_channels() % o.groups() || o.out_channels() % o.groups()))
    throw bad("groups", o.groups(), "must divide in_channels and out_channels");
}

}  // namespace

DynamicQConv2dImpl::DynamicQConv2dImpl(DynamicQConv2dOptions o) : options(std::move(o)) {
  check_options(options);
  const int64_t k = options.kernel_size();
  const int64_t in_per_group = options.depthwise() ? 1 : options.in_channels() / options.groups();
  weight = register_parameter("weight", torch::empty({options.out_channels(), in_per_group, k, k}));
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
  if (options.bias()) bias = register_parameter("bias", torch::zeros({options.out_channels()}));

  kernels_ = options.kernel_choices();
  kernels_.push_back(k);
  std::sort(kernels_.begin(), kernels_.end(), std::greater<int64_t>());
  kernels_.erase(std::unique(kernels_.begin(), kernels_.end()), kernels_.end());
  for (size_t i = 1; i < kernels_.size(); ++i) {
    const int64_t from = kernels_[i - 1], to = kernels_[i];
    transforms_[to] = register_parameter("transform_" + std::to_string(from) + "to" + std::to_string(to),
                                         torch::eye(to * to));
  }
  quantizer = register_module("quantizer", LayerQuantizer(options.out_channels()));
  set_active(0, 0);
}

void DynamicQConv2dImpl::set_active(int64_t out_channels, int64_t kernel_size) {
  const int64_t out = out_channels == 0 ? options.out_channels() : out_channels;
  const int64_t k = kernel_size == 0 ? options.kernel_size() : kernel_size;
  if (out < 1 || out > options.out_channels())
    throw util::input_error("active out_channels must lie in [1, " + std::to_string(options.out_channels()) +
                            "]")
        .field("out_channels")
        .value(std::to_string(out));
  if (std::find(kernels_.begin(), kernels_.end(), k) == kernels_.end())
    throw util::input_error("active kernel_size must be one of " + list_text(kernels_))
        .field("kernel_size")
        .value(std::to_string(k));
  out_ = out;
  kernel_ = k;
}

int64_t DynamicQConv2dImpl::active_out_channels(int64_t in_channels) const {
  return options.depthwise() ? in_channels : out_;
}

int64_t DynamicQConv2dImpl::active_groups(int64_t in_channels) const {
  return options.depthwise() ? in_channels : options.groups();
}

const torch::Tensor& DynamicQConv2dImpl::transform(int64_t from, int64_t to) const {
  auto it = std::find(kernels_.begin(), kernels_.end(), from);
  OQA_ASSERT(it != kernels_.end() && it + 1 != kernels_.end() && *(it + 1) == to,
             "no kernel transform " + std::to_string(from) + "to" + std::to_string(to));
  return transforms_.at(to);
}

torch::Tensor DynamicQConv2dImpl::active_weight(int64_t in_channels) const {
  const int64_t groups = active_groups(in_channels);
  const int64_t out = active_out_channels(in_channels);
  if (in_channels < 1 || in_channels > options.in_channels() || in_channels % groups || out % groups)
    throw util::input_error("input channels must lie in [1, " + std::to_string(options.in_channels()) +
                            "] and be divisible by the groups (" + std::to_string(groups) + ")")
        .field("in_channels")
        .value(std::to_string(in_channels));
  torch::Tensor w = weight.narrow(0, 0, out).narrow(1, 0, in_channels / groups);
  for (size_t i = 1; i < kernels_.size() && kernels_[i - 1] > kernel_; ++i) {
    const int64_t from = kernels_[i - 1], to = kernels_[i];
    const int64_t start = (from - to) / 2;
    w = w.narrow(2, start, to).narrow(3, start, to);
    w = at::matmul(w.reshape({-1, to * to}), transforms_.at(to)).reshape({w.size(0), w.size(1), to, to});
  }
  return w;
}

torch::Tensor DynamicQConv2dImpl::active_bias(int64_t in_channels) const {
  return bias.defined() ? bias.narrow(0, 0, active_out_channels(in_channels)) : torch::Tensor();
}

torch::Tensor DynamicQConv2dImpl::forward(const torch::Tensor& x) {
  const int64_t in = x.size(1);
  const int64_t p = kernel_ / 2;
  torch::Tensor w = quantizer->quantize_weight(active_weight(in));
  const torch::Tensor b = active_bias(in);
  if (options.depthwise() && !b.defined())
    return depthwise_conv2d(quantizer->quantize_input(x), w, options.stride(), p);
  return at::conv2d(quantizer->quantize_input(x), w, b, {options.stride(), options.stride()}, {p, p}, {1, 1},
                    active_groups(in));
}

void DynamicQConv2dImpl::pretty_print(std::ostream& stream) const {
  stream << "oqa::nn::DynamicQConv2d(in=" << options.in_channels() << ", out=";
  if (options.depthwise())
    stream << "in, depthwise";
  else
    stream << out_ << "/" << options.out_channels();
  stream << ", kernel=" << kernel_ << "/" << options.kernel_size() << ", stride=" << options.stride() << ")";
}

StaticLayer DynamicQConv2dImpl::to_static(const StaticModel& model, int input) const {
  const int64_t in = model.out_channels(input);
  StaticLayer l;
  l.op = StaticOp::kConv;
  l.inputs = {input};
  l.weight = active_weight(in).detach().clone();
  if (bias.defined()) l.bias = active_bias(in).detach().clone();
  l.stride = options.stride();
  l.padding = kernel_ / 2;
  l.groups = active_groups(in);
  l.weight_quant = quantizer->static_weight(l.weight.size(0));
  l.input_quant = quantizer->static_input();
  return l;
}

}  // namespace oqa::nn
