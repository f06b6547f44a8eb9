// LSQ initial step size, initial offset and gradient scale.
#include "oqa/quant/step_init.h"

#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "oqa/util/error.h"

namespace oqa::quant {

namespace {

// Checks what the init functions need from x and spec; returns the dims to reduce over.
std::vector<int64_t> reduce_dims(const torch::Tensor& x, const QuantSpec& spec, const char* what) {
  spec.validate();
  if (spec.is_float())
    throw util::input_error(std::string(what) + " needs a quantized spec, not float").field("bits").value("0");
  if (!x.defined() || x.numel() == 0)
    throw util::input_error(std::string(what) + ": tensor is empty").field("x").value(x.defined() ? "[]" : "undefined");
  std::vector<int64_t> dims;
  if (!spec.per_channel()) return dims;
  if (spec.axis >= x.dim())
    throw util::input_error("channel axis out of range for a tensor with " + std::to_string(x.dim()) + " dims")
        .field("axis")
        .value(std::to_string(spec.axis));
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != spec.axis) dims.push_back(d);
  return dims;
}

}  // namespace

torch::Tensor init_step_size(const torch::Tensor& x, const QuantSpec& spec, double min_step) {
  auto dims = reduce_dims(x, spec, "init_step_size");
  torch::NoGradGuard no_grad;
  auto a = x.detach().to(torch::kFloat).abs();
  torch::Tensor mean = spec.per_channel() ? (dims.empty() ? a : a.mean(dims)) : a.mean().reshape({1});
  auto s = mean * (2.0 / std::sqrt(static_cast<double>(spec.qp())));
  return s.clamp_min(min_step).reshape({-1}).contiguous();
}

torch::Tensor init_offset(const torch::Tensor& x, const QuantSpec& spec) {
  auto dims = reduce_dims(x, spec, "init_offset");
  torch::NoGradGuard no_grad;
  auto xf = x.detach().to(torch::kFloat);
  int64_t n = spec.per_channel() ? x.size(spec.axis) : 1;
  if (spec.is_signed) return torch::zeros({n}, xf.options());
  torch::Tensor lo = spec.per_channel() ? (dims.empty() ? xf : xf.amin(dims)) : xf.min().reshape({1});
  return lo.clamp_max(0.0).reshape({-1}).contiguous();
}

double grad_scale_for(const torch::Tensor& x, const QuantSpec& spec) {
  reduce_dims(x, spec, "grad_scale_for");
  double n = static_cast<double>(x.numel());
  if (spec.per_channel()) n /= static_cast<double>(x.size(spec.axis));
  return 1.0 / std::sqrt(n * static_cast<double>(spec.qp()));
}

}  // namespace oqa::quant
