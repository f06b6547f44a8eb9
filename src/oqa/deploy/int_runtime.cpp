// IntegerModel: per-layer preparation (packed int16 weights, folded scale/shift) and the NHWC forward pass.
#include "oqa/deploy/int_runtime.h"

#include <cmath>
#include <cstring>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "oqa/data/transforms.h"
#include "oqa/deploy/int_kernels.h"
#include "oqa/deploy/levels.h"
#include "oqa/util/error.h"

namespace oqa::deploy {
namespace {

using detail::ConvShape;
using detail::PackedB;

enum class Kind { kIntConv, kIntDepthwise, kIntLinear, kFloatLayer, kAdd, kMul, kPool };

const char* to_string(Kind k) {
  switch (k) {
    case Kind::kIntConv: return "int_conv";
    case Kind::kIntDepthwise: return "int_depthwise";
    case Kind::kIntLinear: return "int_linear";
    case Kind::kFloatLayer: return "float_layer";
    case Kind::kAdd: return "add";
    case Kind::kMul: return "mul";
    case Kind::kPool: return "global_avg_pool";
  }
  return "?";
}

struct Dims {
  int64_t h = 1, w = 1, c = 1;
  int64_t pixels() const { return h * w; }
  int64_t size() const { return h * w * c; }
};

int64_t round_up_even(int64_t v) {
  return (v + 1) / 2 * 2;
}

struct Step {
  Kind kind = Kind::kFloatLayer;
  std::string name;
  std::vector<int> inputs;
  Dims out;
  nn::Activation act = nn::Activation::kNone;
  // Integer layers: input quantizer, geometry, packed weights and the folded epilogue
  // y[p][o] = act(acc[p][o] * scale[o] + shift[o] + corr[p % pixels][o]).
  float in_step = 1, in_offset = 0;
  int qn = 0, qp = 0;
  int64_t q_cols = 0, q_stride = 0, lda = 0;
  ConvShape conv;
  bool direct = false;
  std::vector<PackedB> b;
  std::vector<int16_t> dw;
  std::vector<float> scale, shift, corr;
  // Float fallback (run through LibTorch) and its source layer.
  nn::StaticLayer layer;
};

float activate(float z, nn::Activation a) {
  switch (a) {
    case nn::Activation::kNone: return z;
    case nn::Activation::kRelu: return z > 0 ? z : 0.0f;
    case nn::Activation::kHswish: return z * std::min(std::max(z + 3.0f, 0.0f), 6.0f) / 6.0f;
    case nn::Activation::kHsigmoid: return std::min(std::max(z + 3.0f, 0.0f), 6.0f) / 6.0f;
  }
  return z;
}

__attribute__((target_clones("avx2", "default"))) void requantize_rows(const int32_t* acc, int64_t r0,
                                                                       int64_t r1, int64_t oc,
                                                                       const float* scale, const float* shift,
                                                                       const float* corr, int64_t pixels,
                                                                       nn::Activation act, float* out) {
  for (int64_t p = r0; p < r1; ++p) {
    const int32_t* a = acc + p * oc;
    float* y = out + p * oc;
    const float* cr = corr ? corr + (p % pixels) * oc : nullptr;
    for (int64_t o = 0; o < oc; ++o) {
      float z = static_cast<float>(a[o]) * scale[o] + shift[o];
      if (cr) z += cr[o];
      y[o] = activate(z, act);
    }
  }
}

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

// Scale, shift and the input quantizer of an integer conv or linear layer.
void prepare_epilogue(const nn::StaticLayer& l, int64_t oc, Step& s) {
  const nn::StaticQuant& iq = l.input_quant;
  s.in_step = iq.step_size.item<float>();
  s.in_offset = iq.offset.defined() ? iq.offset.item<float>() : 0.0f;
  s.qn = static_cast<int>(iq.spec.qn());
  s.qp = static_cast<int>(iq.spec.qp());
  std::vector<double> a, c;
  bn_affine(l, oc, a, c);
  const torch::Tensor sw =
      l.weight_quant.step_size.to(torch::kDouble).reshape({-1}).expand({oc}).contiguous();
  s.scale.resize(static_cast<size_t>(oc));
  s.shift.resize(static_cast<size_t>(oc));
  for (int64_t o = 0; o < oc; ++o) {
    s.scale[o] = static_cast<float>(a[o] * s.in_step * sw[o].item<double>());
    const double bias = l.bias.defined() ? l.bias[o].item<double>() : 0.0;
    s.shift[o] = static_cast<float>(a[o] * bias + c[o]);
  }
}

// corr[p][o] = a[o] * beta_in * (sum of the dequantized weights over the taps that fall inside the image at
// output position p): what an asymmetric input adds, where zero padding contributes nothing.
void prepare_asymmetric_correction(const nn::StaticLayer& l, const Dims& in, Step& s) {
  if (s.in_offset == 0.0f) return;
  std::vector<double> a, c;
  const int64_t oc = l.weight.size(0);
  bn_affine(l, oc, a, c);
  const torch::Tensor w_hat =
      integer_levels(l.weight, l.weight_quant).to(torch::kDouble) *
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

void prepare_conv(const nn::StaticLayer& l, const Dims& in, Step& s) {
  const int64_t oc = l.weight.size(0), cg = l.weight.size(1), k = l.weight.size(2);
  s.conv = ConvShape{1, in.h, in.w, in.c, s.out.h, s.out.w, oc, k, l.stride, l.padding, l.groups};
  prepare_epilogue(l, oc, s);
  prepare_asymmetric_correction(l, in, s);
  const torch::Tensor levels = integer_levels(l.weight, l.weight_quant).contiguous();  // [oc, cg, k, k]
  s.q_cols = in.c;
  s.q_stride = round_up_even(in.c);
  if (l.groups == in.c && oc == in.c && cg == 1) {
    s.kind = Kind::kIntDepthwise;
    const torch::Tensor t = levels.reshape({oc, k * k}).t().contiguous();  // [tap][c]
    s.dw.assign(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + t.numel());
    return;
  }
  s.kind = Kind::kIntConv;
  s.direct = k == 1 && l.stride == 1 && l.padding == 0 && l.groups == 1;
  s.lda = s.direct ? s.q_stride : round_up_even(k * k * cg);
  const int64_t ocg = oc / l.groups;
  // Row o of group g: index (kh * k + kw) * cg + ci, the order im2col lays out.
  const torch::Tensor rows = levels.permute({0, 2, 3, 1}).reshape({oc, k * k * cg}).contiguous();
  for (int64_t g = 0; g < l.groups; ++g) {
    const torch::Tensor wg = rows.narrow(0, g * ocg, ocg).contiguous();
    s.b.push_back(detail::pack_b(wg.data_ptr<int32_t>(), ocg, k * k * cg));
  }
}

void prepare_linear(const nn::StaticLayer& l, const Dims& in, Step& s) {
  const int64_t out = l.weight.size(0);
  s.kind = Kind::kIntLinear;
  prepare_epilogue(l, out, s);
  prepare_asymmetric_correction(l, in, s);
  // The reference flattens NCHW (c, h, w); activations here are NHWC, so reorder the weight columns.
  const torch::Tensor levels = integer_levels(l.weight, l.weight_quant)
                                   .reshape({out, in.c, in.h, in.w})
                                   .permute({0, 2, 3, 1})
                                   .reshape({out, in.size()})
                                   .contiguous();
  s.q_cols = in.size();
  s.q_stride = round_up_even(in.size());
  s.direct = true;
  s.lda = s.q_stride;
  s.b.push_back(detail::pack_b(levels.data_ptr<int32_t>(), out, in.size()));
}

bool runs_in_integers(const nn::StaticLayer& l) {
  return !l.input_quant.spec.is_float() && !l.weight_quant.spec.is_float() && l.weight_quant.spec.symmetric;
}

}  // namespace

struct IntegerModel::Impl {
  int64_t in_channels = 1, resolution = 1;
  std::vector<Step> steps;
  // Work buffers, reused across calls.
  std::vector<std::vector<float>> outs;
  std::vector<float> input;
  std::vector<int16_t> q, a;
  std::vector<int32_t> acc;

  const Dims& dims(int i) const { return i < 0 ? input_dims : steps[static_cast<size_t>(i)].out; }
  Dims input_dims;

  const float* data(int i) const { return i < 0 ? input.data() : outs[static_cast<size_t>(i)].data(); }
  void run(Step& s, int64_t n, float* out);
  void run_float(const Step& s, int64_t n, float* out);
};

IntegerModel::IntegerModel(const DeployModel& m) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.in_channels = m.model.in_channels();
  im.resolution = m.model.resolution();
  im.input_dims = {im.resolution, im.resolution, im.in_channels};
  for (const nn::StaticLayer& l : m.model.layers()) {
    Step s;
    s.name = l.name;
    s.inputs = l.inputs;
    s.act = l.act;
    s.layer = l;
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
        if (runs_in_integers(l)) prepare_conv(l, in, s);
        break;
      }
      case nn::StaticOp::kLinear:
        if (l.weight.size(1) != in.size())
          throw fail("expects " + std::to_string(l.weight.size(1)) + " features, gets " +
                     std::to_string(in.size()));
        s.out = {1, 1, l.weight.size(0)};
        if (runs_in_integers(l)) prepare_linear(l, in, s);
        break;
    }
    im.steps.push_back(std::move(s));
  }
  OQA_ASSERT(!im.steps.empty(), "integer model without layers");
}

IntegerModel::~IntegerModel() = default;
IntegerModel::IntegerModel(IntegerModel&&) noexcept = default;

int64_t IntegerModel::classes() const {
  return impl_->steps.back().out.size();
}
int64_t IntegerModel::resolution() const {
  return impl_->resolution;
}
int64_t IntegerModel::in_channels() const {
  return impl_->in_channels;
}

nlohmann::json IntegerModel::summary() const {
  int integer = 0, fallback = 0;
  nlohmann::json layers = nlohmann::json::array();
  for (const Step& s : impl_->steps) {
    integer += s.kind == Kind::kIntConv || s.kind == Kind::kIntDepthwise || s.kind == Kind::kIntLinear;
    fallback += s.kind == Kind::kFloatLayer;
    layers.push_back({{"name", s.name}, {"kind", to_string(s.kind)}});
  }
  return {{"integer_layers", integer},
          {"float_layers", fallback},
          {"gemm", detail::gemm_variant()},
          {"layers", std::move(layers)}};
}

void IntegerModel::Impl::run_float(const Step& s, int64_t n, float* out) {
  std::vector<torch::Tensor> args;
  for (int i : s.inputs) {
    const Dims d = dims(i);
    args.push_back(torch::from_blob(const_cast<float*>(data(i)), {n, d.h, d.w, d.c}, torch::kFloat)
                       .permute({0, 3, 1, 2}));
  }
  const torch::Tensor y = nn::StaticModel::run_layer(s.layer, args);
  const torch::Tensor nhwc = (y.dim() == 2 ? y : y.permute({0, 2, 3, 1})).contiguous();
  OQA_ASSERT(nhwc.numel() == n * s.out.size(), "float layer " + s.name + " produced an unexpected shape");
  std::memcpy(out, nhwc.data_ptr<float>(), static_cast<size_t>(nhwc.numel()) * sizeof(float));
}

void IntegerModel::Impl::run(Step& s, int64_t n, float* out) {
  const Dims in = dims(s.inputs[0]);
  const float* x = data(s.inputs[0]);
  const int64_t oc = s.out.c;
  switch (s.kind) {
    case Kind::kIntConv:
    case Kind::kIntDepthwise:
    case Kind::kIntLinear: {
      const bool linear = s.kind == Kind::kIntLinear;
      const int64_t q_rows = linear ? n : n * in.pixels();
      q.resize(static_cast<size_t>(q_rows * s.q_stride));
      detail::quantize_rows(x, q_rows, s.q_cols, s.in_step, s.in_offset, s.qn, s.qp, q.data(), s.q_stride);
      ConvShape cs = s.conv;
      cs.n = n;
      const int64_t rows = linear ? n : n * s.out.pixels();
      acc.resize(static_cast<size_t>(rows * oc));
      if (s.kind == Kind::kIntDepthwise) {
        detail::depthwise_s16(q.data(), s.q_stride, cs, s.dw.data(), acc.data());
      } else if (s.direct) {
        detail::gemm_s16(q.data(), rows, s.q_stride, s.b[0], acc.data(), oc);
      } else {
        a.resize(static_cast<size_t>(rows * s.lda));
        const int64_t ocg = oc / cs.groups;
        for (int64_t g = 0; g < cs.groups; ++g) {
          detail::im2col(q.data(), s.q_stride, cs, g, a.data(), s.lda);
          detail::gemm_s16(a.data(), rows, s.lda, s.b[static_cast<size_t>(g)], acc.data() + g * ocg, oc);
        }
      }
      const float* corr = s.corr.empty() ? nullptr : s.corr.data();
      const int64_t pixels = linear ? 1 : s.out.pixels();
      at::parallel_for(
          0, rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, oc)), [&](int64_t r0, int64_t r1) {
            requantize_rows(acc.data(), r0, r1, oc, s.scale.data(), s.shift.data(), corr, pixels, s.act, out);
          });
      return;
    }
    case Kind::kFloatLayer: return run_float(s, n, out);
    case Kind::kPool: {
      const int64_t px = in.pixels();
      for (int64_t i = 0; i < n; ++i) {
        float* y = out + i * oc;
        std::fill(y, y + oc, 0.0f);
        for (int64_t p = 0; p < px; ++p)
          for (int64_t c = 0; c < oc; ++c) y[c] += x[(i * px + p) * oc + c];
        for (int64_t c = 0; c < oc; ++c) y[c] /= static_cast<float>(px);
      }
      return;
    }
    case Kind::kAdd: {
      const float* b = data(s.inputs[1]);
      const int64_t total = n * s.out.size();
      for (int64_t i = 0; i < total; ++i) out[i] = activate(x[i] + b[i], s.act);
      return;
    }
    case Kind::kMul: {
      const Dims other = dims(s.inputs[1]);
      const float* b = data(s.inputs[1]);
      const bool a_small = in.pixels() < s.out.pixels(), b_small = other.pixels() < s.out.pixels();
      const int64_t px = s.out.pixels();
      for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < px; ++p) {
          const float* av = x + (i * (a_small ? 1 : px) + (a_small ? 0 : p)) * oc;
          const float* bv = b + (i * (b_small ? 1 : px) + (b_small ? 0 : p)) * oc;
          float* y = out + (i * px + p) * oc;
          for (int64_t c = 0; c < oc; ++c) y[c] = av[c] * bv[c];
        }
      return;
    }
  }
}

torch::Tensor IntegerModel::forward(const torch::Tensor& x) {
  Impl& im = *impl_;
  if (x.dim() != 4 || x.size(1) != im.in_channels)
    throw util::input_error("input must be [N, " + std::to_string(im.in_channels) + ", H, W]")
        .field("input")
        .value(c10::str(x.sizes()));
  const torch::Tensor xr =
      data::resize_batch(x.to(torch::kFloat), im.resolution).permute({0, 2, 3, 1}).contiguous();
  const int64_t n = xr.size(0);
  im.input.assign(xr.data_ptr<float>(), xr.data_ptr<float>() + xr.numel());
  im.outs.resize(im.steps.size());
  for (size_t i = 0; i < im.steps.size(); ++i) {
    im.outs[i].resize(static_cast<size_t>(n * im.steps[i].out.size()));
    im.run(im.steps[i], n, im.outs[i].data());
  }
  const Step& last = im.steps.back();
  torch::Tensor y =
      torch::from_blob(im.outs.back().data(), {n, last.out.h, last.out.w, last.out.c}, torch::kFloat)
          .permute({0, 3, 1, 2})
          .reshape({n, -1})
          .clone();
  return y;
}

}  // namespace oqa::deploy
