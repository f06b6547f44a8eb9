// Integer levels of a fake-quantized tensor (shared by the packed writer and the ONNX exporter).
#include "oqa/deploy/levels.h"

#include <ATen/ATen.h>

#include "oqa/quant/lsq.h"
#include "oqa/util/error.h"

namespace oqa::deploy {

torch::Tensor broadcast_param(const torch::Tensor& p, const nn::StaticQuant& q, int64_t dim) {
  if (!q.spec.per_channel() || p.numel() == 1) return p.reshape({1}).to(torch::kFloat);
  std::vector<int64_t> shape(static_cast<size_t>(dim), 1);
  shape.at(static_cast<size_t>(q.spec.axis)) = p.numel();
  return p.reshape(shape).to(torch::kFloat);
}

torch::Tensor integer_levels(const torch::Tensor& x, const nn::StaticQuant& q) {
  OQA_ASSERT(!q.spec.is_float(), "integer_levels of a float tensor");
  const torch::Tensor xf = x.to(torch::kFloat).contiguous();
  const torch::Tensor y = quant::lsq_quantize(xf, q.step_size, q.offset, q.spec, /*grad_scale=*/1.0);
  const torch::Tensor s = broadcast_param(q.step_size, q, xf.dim());
  torch::Tensor t = q.offset.defined() ? (y - broadcast_param(q.offset, q, xf.dim())) / s : y / s;
  return t.round().clamp(static_cast<double>(q.spec.qn()), static_cast<double>(q.spec.qp())).to(torch::kInt);
}

}  // namespace oqa::deploy
