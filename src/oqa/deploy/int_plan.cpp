// Planning the integer runtime: per-layer preparation (packed int16 weights, folded scale / shift,
// corrections).
#include "oqa/deploy/int_plan.h"

#include <cmath>

#include <ATen/ATen.h>

#include "oqa/deploy/levels.h"
#include "oqa/quant/lsq.h"
#include "oqa/util/error.h"

namespace oqa::deploy::detail {
namespace {

// Per-channel batch-norm affine (a, c) of a layer: bn(y) = a * y + c; identity without batch norm.
void bn_affine(const nn::StaticLayer& l, int64_t oc, std::vector<double>& a, std::vector<double>& c) {
  a.assign(static_cast<size_t>(oc), 1.0);
  c.assign(static_cast<size_t>(oc), 0.0);
  if (!l.batch_norm) return;
  const nn::StaticBatchNorm& bn = *l.batch_norm;
  const torch::Tensor w = bn.weight.to(torch::kDouble), b = bn.bias.to(torch::kDouble);
  const torch::Tensor m = bn.running_mean.to(torch::kDouble), v = bn.running_var.to(torch::kDouble);
  for (int64_t o = 0; o < oc; ++o) {
    a[o] = w[o].item<double>() / std::sqrt(v[o].item<double>() + bn.eps);
    c[o] = b[o].item<double>() - m[o].item<double>() * a[o];
  }
}

bool runs_in_integers(const nn::StaticLayer& l) {
  return !l.input_quant.spec.is_float() && !l.weight_quant.spec.is_float() && l.weight_quant.spec.symmetric;
}

// Scale, shift and the input quantizer of a conv or linear layer: integer layers fold s_in * s_w into the
// scale, float ones only the batch norm. Returns the batch norm's per-channel scale.
std::vector<double> prepare_epilogue(const nn::StaticLayer& l, int64_t oc, PreparedLayer& s) {
  const nn::StaticQuant& iq = l.input_quant;
  s.integer = runs_in_integers(l);
  s.quantize_input = !iq.spec.is_float();
  if (s.quantize_input) {
    s.in_step = iq.step_size.item<float>();
    s.in_offset = iq.offset.defined() ? iq.offset.item<float>() : 0.0f;
    s.qn = static_cast<int>(iq.spec.qn());
    s.qp = static_cast<int>(iq.spec.qp());
  }
  std::vector<double> a, c;
  bn_affine(l, oc, a, c);
  const torch::Tensor sw =
      s.integer ? l.weight_quant.step_size.to(torch::kDouble).reshape({-1}).expand({oc}).contiguous()
                : torch::ones({oc}, torch::kDouble);
  const double s_in = s.integer ? s.in_step : 1.0;
  s.scale.resize(static_cast<size_t>(oc));
  s.shift.resize(static_cast<size_t>(oc));
  for (int64_t o = 0; o < oc; ++o) {
    s.scale[o] = static_cast<float>(a[o] * s_in * sw[o].item<double>());
    const double bias = l.bias.defined() ? l.bias[o].item<double>() : 0.0;
    s.shift[o] = static_cast<float>(a[o] * bias + c[o]);
  }
  return a;
}

// corr[p][o] = a[o] * beta_in * (sum of the dequantized weights over the taps that fall inside the image at
// output position p): what an asymmetric input adds to an integer layer, where zero padding adds nothing.
// levels: the layer's integer weight levels; a: its batch norm's per-channel scale.
void prepare_asymmetric_correction(const nn::StaticLayer& l, const Dims& in, const torch::Tensor& levels,
                                   const std::vector<double>& a, PreparedLayer& s) {
  if (!s.integer || s.in_offset == 0.0f) return;
  const int64_t oc = l.weight.size(0);
  const torch::Tensor w_hat =
      levels.to(torch::kDouble) *
      broadcast_param(l.weight_quant.step_size, l.weight_quant, l.weight.dim()).to(torch::kDouble);
  torch::Tensor m;
  if (l.op == nn::StaticOp::kConv)
    m = at::conv2d(torch::ones({1, in.c, in.h, in.w}, torch::kDouble), w_hat, {}, {l.stride, l.stride},
                   {l.padding, l.padding}, {1, 1}, l.groups)
            .permute({0, 2, 3, 1});
  else
    m = w_hat.sum(1).reshape({1, 1, 1, oc});
  m = (m * s.in_offset * torch::tensor(a, torch::kDouble)).contiguous().to(torch::kFloat);
  s.corr.assign(m.data_ptr<float>(), m.data_ptr<float>() + m.numel());
}

// The weight a layer computes with: integer levels (int32) or the dequantized float weight the fake-quant
// model uses (a float spec: the weight itself).
torch::Tensor compute_weight(const nn::StaticLayer& l, bool integer) {
  if (integer) return integer_levels(l.weight, l.weight_quant);
  if (l.weight_quant.spec.is_float()) return l.weight.to(torch::kFloat);
  return quant::lsq_quantize(l.weight.to(torch::kFloat).contiguous(), l.weight_quant.step_size,
                             l.weight_quant.offset, l.weight_quant.spec, 1.0);
}

// GEMM weights of one group from rows [ocg, K]: packed int16 or a float [K, ocg] matrix.
void add_gemm_weights(const torch::Tensor& rows, PreparedLayer& s) {
  const torch::Tensor r = rows.contiguous();
  if (s.integer)
    s.b.push_back(detail::pack_b(r.data_ptr<int32_t>(), r.size(0), r.size(1)));
  else
    s.wf.push_back(r.t().contiguous());
}

void prepare_conv(const nn::StaticLayer& l, const Dims& in, PreparedLayer& s) {
  const int64_t oc = l.weight.size(0), cg = l.weight.size(1), k = l.weight.size(2);
  s.conv = ConvShape{1, in.h, in.w, in.c, s.out.h, s.out.w, oc, k, l.stride, l.padding, l.groups};
  const std::vector<double> bn_scale = prepare_epilogue(l, oc, s);
  const torch::Tensor w = compute_weight(l, s.integer).contiguous();  // [oc, cg, k, k]
  prepare_asymmetric_correction(l, in, w, bn_scale, s);
  s.q_cols = in.c;
  s.q_stride = s.integer ? round_up_even(in.c) : in.c;
  if (l.groups == in.c && oc == in.c && cg == 1) {
    s.kind = Kind::kDepthwise;
    const torch::Tensor t = w.reshape({oc, k * k}).t().contiguous();  // [tap][c]
    if (s.integer)
      s.dw.assign(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + t.numel());
    else
      s.dwf.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    return;
  }
  s.kind = Kind::kConv;
  s.direct = k == 1 && l.stride == 1 && l.padding == 0 && l.groups == 1;
  s.lda = s.direct ? s.q_stride : (s.integer ? round_up_even(k * k * cg) : k * k * cg);
  const int64_t ocg = oc / l.groups;
  // Row o of group g: index (kh * k + kw) * cg + ci, the order im2col lays out.
  const torch::Tensor rows = w.permute({0, 2, 3, 1}).reshape({oc, k * k * cg});
  for (int64_t g = 0; g < l.groups; ++g) add_gemm_weights(rows.narrow(0, g * ocg, ocg), s);
}

void prepare_linear(const nn::StaticLayer& l, const Dims& in, PreparedLayer& s) {
  const int64_t out = l.weight.size(0);
  s.kind = Kind::kLinear;
  const std::vector<double> bn_scale = prepare_epilogue(l, out, s);
  const torch::Tensor w = compute_weight(l, s.integer);  // [out, in]
  prepare_asymmetric_correction(l, in, w, bn_scale, s);
  // The reference flattens NCHW (c, h, w); activations here are NHWC, so reorder the weight columns.
  add_gemm_weights(w.reshape({out, in.c, in.h, in.w}).permute({0, 2, 3, 1}).reshape({out, in.size()}), s);
  s.q_cols = in.size();
  s.q_stride = s.integer ? round_up_even(in.size()) : in.size();
  s.direct = true;
  s.lda = s.q_stride;
}

}  // namespace

IntegerPlan plan_integer_model(const DeployModel& m) {
  IntegerPlan im;
  im.in_channels = m.model.in_channels();
  im.resolution = m.model.resolution();
  im.input_dims = {im.resolution, im.resolution, im.in_channels};
  for (const nn::StaticLayer& l : m.model.layers()) {
    PreparedLayer s;
    s.name = l.name;
    s.inputs = l.inputs;
    s.act = l.act;
    const Dims in = im.dims(l.inputs.at(0));
    auto fail = [&](const std::string& why) {
      return util::input_error("layer " + l.name + ": " + why).field("layers." + l.name);
    };
    switch (l.op) {
      case nn::StaticOp::kGlobalAvgPool:
        s.kind = Kind::kPool;
        s.out = {1, 1, in.c};
        break;
      case nn::StaticOp::kAdd:
      case nn::StaticOp::kMul: {
        const Dims other = im.dims(l.inputs.at(1));
        s.kind = l.op == nn::StaticOp::kAdd ? Kind::kAdd : Kind::kMul;
        const bool same = other.h == in.h && other.w == in.w;
        const bool broadcast = s.kind == Kind::kMul && (other.pixels() == 1 || in.pixels() == 1);
        if (other.c != in.c || !(same || broadcast)) throw fail("operand shapes do not match");
        s.out = in.pixels() >= other.pixels() ? in : other;
        break;
      }
      case nn::StaticOp::kConv: {
        const int64_t k = l.weight.size(2);
        s.out = {(in.h + 2 * l.padding - k) / l.stride + 1, (in.w + 2 * l.padding - k) / l.stride + 1,
                 l.weight.size(0)};
        if (s.out.h < 1 || s.out.w < 1) throw fail("the kernel is larger than its padded input");
        prepare_conv(l, in, s);
        break;
      }
      case nn::StaticOp::kLinear:
        if (l.weight.size(1) != in.size())
          throw fail("expects " + std::to_string(l.weight.size(1)) + " features, gets " +
                     std::to_string(in.size()));
        s.out = {1, 1, l.weight.size(0)};
        prepare_linear(l, in, s);
        break;
    }
    im.layers.push_back(std::move(s));
  }
  OQA_ASSERT(!im.layers.empty(), "integer model without layers");
  return im;
}

}  // namespace oqa::deploy::detail
