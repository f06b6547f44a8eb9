// lsq_quantize_reference: LSQ / LSQ+ composed from LibTorch ops, written like ../shared/peer/lsq_peer.py.
#include <vector>

#include <torch/torch.h>

#include "oqa/quant/lsq.h"

namespace oqa::quant {

namespace {

// Value of t, gradient of t * g.
torch::Tensor grad_scale_trick(const torch::Tensor& t, double g) { return (t - t * g).detach() + t * g; }

// Value of round(t) (half to even), gradient 1.
torch::Tensor round_ste(const torch::Tensor& t) { return (t.round() - t).detach() + t; }

// Reshapes a per-channel table so that it broadcasts along spec.axis of x; per-tensor: a 0-dim tensor.
torch::Tensor broadcastable(const torch::Tensor& table, const torch::Tensor& x, const QuantSpec& spec) {
  if (!spec.per_channel() || table.numel() == 1) return table.reshape({});
  std::vector<int64_t> shape(x.dim(), 1);
  shape[spec.axis] = table.numel();
  return table.reshape(shape);
}

}  // namespace

torch::Tensor lsq_quantize_reference(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& offset,
                                     const QuantSpec& spec, double grad_scale) {
  check_lsq_inputs(x, step, offset, spec, grad_scale);
  if (spec.is_float()) return x;
  const double qn = static_cast<double>(spec.qn()), qp = static_cast<double>(spec.qp());
  auto s = grad_scale_trick(broadcastable(step, x, spec), grad_scale);
  if (spec.symmetric) return round_ste(torch::clamp(x / s, qn, qp)) * s;
  auto beta = grad_scale_trick(broadcastable(offset, x, spec), grad_scale);
  return round_ste(torch::clamp((x - beta) / s, qn, qp)) * s + beta;
}

}  // namespace oqa::quant
