// lsq_quantize: the fused LSQ op as a torch::autograd::Function around the CPU kernels.
#include <vector>

#include <torch/torch.h>

#include "oqa/quant/lsq.h"
#include "oqa/quant/lsq_kernels.h"
#include "oqa/util/device.h"

namespace oqa::quant {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Kernel arguments for one call: the layout of x and the per-channel step sizes and offsets as the
// composed reference sees them after its grad-scale trick, (s - s*g) + s*g rounded in float, so that
// quotients, ties and clamp edges agree bit for bit.
struct Prepared {
  detail::LsqLayout layout;
  std::vector<float> step, offset;
  float qn = 0.0f, qp = 0.0f;

  detail::LsqParams params() const {
    return {step.data(), offset.empty() ? nullptr : offset.data(), qn, qp};
  }
};

std::vector<float> effective(const torch::Tensor& table, int64_t channels, double grad_scale) {
  auto t = table.detach().to(torch::kCPU).contiguous();
  const float* p = t.data_ptr<float>();
  const float g = static_cast<float>(grad_scale);
  std::vector<float> out(channels);
  for (int64_t c = 0; c < channels; ++c) {
    float v = p[t.numel() == 1 ? 0 : c];
    float vg = v * g;
    out[c] = (v - vg) + vg;
  }
  return out;
}

Prepared prepare(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& offset,
                 const QuantSpec& spec, double grad_scale) {
  Prepared p;
  p.layout.numel = x.numel();
  if (spec.per_channel()) {
    p.layout.channels = x.size(spec.axis);
    p.layout.inner = 1;
    for (int64_t d = spec.axis + 1; d < x.dim(); ++d) p.layout.inner *= x.size(d);
  } else {
    p.layout.channels = 1;
    p.layout.inner = x.numel();
  }
  p.step = effective(step, p.layout.channels, grad_scale);
  if (!spec.symmetric) p.offset = effective(offset, p.layout.channels, grad_scale);
  p.qn = static_cast<float>(spec.qn());
  p.qp = static_cast<float>(spec.qp());
  return p;
}

QuantSpec spec_from(AutogradContext* ctx) {
  QuantSpec s;
  s.bits = static_cast<int>(ctx->saved_data["bits"].toInt());
  s.is_signed = ctx->saved_data["signed"].toBool();
  s.granularity = ctx->saved_data["per_channel"].toBool() ? Granularity::kPerChannel : Granularity::kPerTensor;
  s.axis = ctx->saved_data["axis"].toInt();
  s.symmetric = ctx->saved_data["symmetric"].toBool();
  return s;
}

// Sums per-channel kernel sums into the shape of the table they belong to, times the grad scale.
torch::Tensor table_grad(const std::vector<double>& sums, const torch::Tensor& table, double grad_scale) {
  auto g = torch::empty({table.numel()}, torch::kDouble);
  double* p = g.data_ptr<double>();
  if (table.numel() == 1) {
    double total = 0.0;
    for (double v : sums) total += v;
    p[0] = total;
  } else {
    for (size_t c = 0; c < sums.size(); ++c) p[c] = sums[c];
  }
  return (g * grad_scale).to(table.options().dtype(torch::kFloat)).reshape(table.sizes());
}

class LsqFunction : public torch::autograd::Function<LsqFunction> {
 public:
  // The offset travels as an optional: autograd's custom functions reject undefined tensor inputs.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& step,
                               const c10::optional<torch::Tensor>& offset_or_none, const QuantSpec& spec,
                               double grad_scale) {
    const torch::Tensor offset = offset_or_none.value_or(torch::Tensor());
    auto xc = x.contiguous();
    Prepared p = prepare(xc, step, offset, spec, grad_scale);
    auto y = torch::empty_like(xc, torch::MemoryFormat::Contiguous);
    detail::lsq_forward(xc.data_ptr<float>(), y.data_ptr<float>(), p.layout, p.params());
    ctx->save_for_backward({xc, step, offset});
    ctx->saved_data["bits"] = static_cast<int64_t>(spec.bits);
    ctx->saved_data["signed"] = spec.is_signed;
    ctx->saved_data["per_channel"] = spec.per_channel();
    ctx->saved_data["axis"] = spec.axis;
    ctx->saved_data["symmetric"] = spec.symmetric;
    ctx->saved_data["grad_scale"] = grad_scale;
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &step = saved[1], &offset = saved[2];
    torch::Tensor dy = grad_outputs[0];
    if (!dy.defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    dy = dy.to(torch::kFloat).contiguous();
    const QuantSpec spec = spec_from(ctx);
    const double grad_scale = ctx->saved_data["grad_scale"].toDouble();
    Prepared p = prepare(x, step, offset, spec, grad_scale);

    torch::Tensor dx;
    if (ctx->needs_input_grad(0)) dx = torch::empty_like(x, torch::MemoryFormat::Contiguous);
    std::vector<double> dstep(p.layout.channels), doffset(p.layout.channels);
    detail::lsq_backward(x.data_ptr<float>(), dy.data_ptr<float>(), dx.defined() ? dx.data_ptr<float>() : nullptr,
                         dstep.data(), doffset.data(), p.layout, p.params());

    torch::Tensor dstep_t, doffset_t;
    if (ctx->needs_input_grad(1)) dstep_t = table_grad(dstep, step, grad_scale);
    if (!spec.symmetric && ctx->needs_input_grad(2)) doffset_t = table_grad(doffset, offset, grad_scale);
    return {dx, dstep_t, doffset_t, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor lsq_quantize(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& offset,
                           const QuantSpec& spec, double grad_scale) {
  check_lsq_inputs(x, step, offset, spec, grad_scale);
  if (spec.is_float()) return x;
  if (!util::own_cpu_kernels() || !x.is_cpu() || !step.is_cpu() || (offset.defined() && !offset.is_cpu()))
    return lsq_quantize_reference(x, step, offset, spec, grad_scale);
  c10::optional<torch::Tensor> offset_or_none;
  if (offset.defined()) offset_or_none = offset;
  return LsqFunction::apply(x, step, offset_or_none, spec, grad_scale);
}

}  // namespace oqa::quant
