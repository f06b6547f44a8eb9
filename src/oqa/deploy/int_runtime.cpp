// IntegerModel: per-layer preparation (packed int16 weights, folded scale/shift) and the NHWC forward pass.
#include "oqa/deploy/int_runtime.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "oqa/data/transforms.h"
#include "oqa/deploy/int_kernels.h"
#include "oqa/deploy/levels.h"
#include "oqa/quant/lsq.h"
#include "oqa/util/error.h"

namespace oqa::deploy {
namespace {

using detail::ConvShape;
using detail::PackedB;

enum class Kind { kConv, kDepthwise, kLinear, kAdd, kMul, kPool };

const char* to_string(Kind k) {
  switch (k) {
    case Kind::kConv: return "conv";
    case Kind::kDepthwise: return "depthwise";
    case Kind::kLinear: return "linear";
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
  Kind kind = Kind::kAdd;
  bool integer = false;         // conv / depthwise / linear: integer GEMM, else float on dequantized weights
  bool quantize_input = false;  // float path: fake-quantize the input first
  std::string name;
  std::vector<int> inputs;
  Dims out;
  nn::Activation act = nn::Activation::kNone;
  // Conv / linear layers: input quantizer, geometry, weights and the folded epilogue
  // y[p][o] = act(acc[p][o] * scale[o] + shift[o] + corr[p % pixels][o]). Integer layers keep packed int16
  // levels (b, dw); float ones dequantized weights (wf: [K][N] per group, dwf: [tap][c]).
  float in_step = 1, in_offset = 0;
  int qn = 0, qp = 0;
  int64_t q_cols = 0, q_stride = 0, lda = 0;
  ConvShape conv;
  bool direct = false;
  std::vector<PackedB> b;
  std::vector<int16_t> dw;
  std::vector<float> scale, shift, corr;
  std::vector<torch::Tensor> wf;
  std::vector<float> dwf;
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

template <typename Acc>
__attribute__((always_inline)) inline void requantize_body(const Acc* acc, int64_t r0, int64_t r1, int64_t oc,
                                                           const float* scale, const float* shift,
                                                           const float* corr, int64_t pixels,
                                                           nn::Activation act, float* out) {
  for (int64_t p = r0; p < r1; ++p) {
    const Acc* a = acc + p * oc;
    float* y = out + p * oc;
    const float* cr = corr ? corr + (p % pixels) * oc : nullptr;
    for (int64_t o = 0; o < oc; ++o) {
      float z = static_cast<float>(a[o]) * scale[o] + shift[o];
      if (cr) z += cr[o];
      y[o] = activate(z, act);
    }
  }
}

__attribute__((target_clones("avx2", "default"))) void requantize_rows(const int32_t* acc, int64_t r0,
                                                                       int64_t r1, int64_t oc,
                                                                       const float* scale, const float* shift,
                                                                       const float* corr, int64_t pixels,
                                                                       nn::Activation act, float* out) {
  requantize_body(acc, r0, r1, oc, scale, shift, corr, pixels, act, out);
}

__attribute__((target_clones("avx2", "default"))) void requantize_rows(const float* acc, int64_t r0,
                                                                       int64_t r1, int64_t oc,
                                                                       const float* scale, const float* shift,
                                                                       const float* corr, int64_t pixels,
                                                                       nn::Activation act, float* out) {
  requantize_body(acc, r0, r1, oc, scale, shift, corr, pixels, act, out);
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

bool runs_in_integers(const nn::StaticLayer& l) {
  return !l.input_quant.spec.is_float() && !l.weight_quant.spec.is_float() && l.weight_quant.spec.symmetric;
}

// Scale, shift and the input quantizer of a conv or linear layer: integer layers fold s_in * s_w into the
// scale, float ones only the batch norm. Returns the batch norm's per-channel scale.
std::vector<double> prepare_epilogue(const nn::StaticLayer& l, int64_t oc, Step& s) {
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
                                   const std::vector<double>& a, Step& s) {
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
void add_gemm_weights(const torch::Tensor& rows, Step& s) {
  const torch::Tensor r = rows.contiguous();
  if (s.integer)
    s.b.push_back(detail::pack_b(r.data_ptr<int32_t>(), r.size(0), r.size(1)));
  else
    s.wf.push_back(r.t().contiguous());
}

void prepare_conv(const nn::StaticLayer& l, const Dims& in, Step& s) {
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

void prepare_linear(const nn::StaticLayer& l, const Dims& in, Step& s) {
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

// Buffers of one forward pass over a chunk of the batch (one per thread), reused across calls.
struct Workspace {
  std::vector<std::vector<float>> outs;
  std::vector<float> input;
  std::vector<int16_t> q, a;
  std::vector<int32_t> acc;
  std::vector<float> xf, af, accf, tmp;
};

}  // namespace

struct IntegerModel::Impl {
  int64_t in_channels = 1, resolution = 1;
  std::vector<Step> steps;
  std::vector<Workspace> spaces;

  const Dims& dims(int i) const { return i < 0 ? input_dims : steps[static_cast<size_t>(i)].out; }
  Dims input_dims;

  static const float* data(const Workspace& w, int i) {
    return i < 0 ? w.input.data() : w.outs[static_cast<size_t>(i)].data();
  }
  void run(const Step& s, Workspace& w, int64_t n, float* out) const;
  void run_integer(const Step& s, Workspace& w, int64_t n, const float* x, float* out) const;
  void run_float(const Step& s, Workspace& w, int64_t n, const float* x, float* out) const;
  // Runs n NCHW images (x) through every step in w and writes their logits to y (n rows); with ms, adds
  // each step's milliseconds.
  void forward_chunk(const float* x, int64_t n, Workspace& w, std::vector<double>* ms, float* y) const;
  // The forward pass; with ms, adds each stage's milliseconds (input conversion first, then every step).
  // Batches of at least two images per thread are split across threads, one chunk and workspace each.
  torch::Tensor forward(const torch::Tensor& x, std::vector<double>* ms);
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
    const bool weighted = s.kind == Kind::kConv || s.kind == Kind::kDepthwise || s.kind == Kind::kLinear;
    integer += weighted && s.integer;
    fallback += weighted && !s.integer;
    layers.push_back({{"name", s.name},
                      {"kind", weighted ? std::string(s.integer ? "int_" : "float_") + to_string(s.kind)
                                        : std::string(to_string(s.kind))}});
  }
  return {{"integer_layers", integer},
          {"float_layers", fallback},
          {"gemm", detail::gemm_variant()},
          {"layers", std::move(layers)}};
}

void IntegerModel::Impl::run_integer(const Step& s, Workspace& w, int64_t n, const float* x,
                                     float* out) const {
  const Dims in = dims(s.inputs[0]);
  const bool linear = s.kind == Kind::kLinear;
  const int64_t oc = s.out.c, q_rows = linear ? n : n * in.pixels();
  w.q.resize(static_cast<size_t>(q_rows * s.q_stride));
  detail::quantize_rows(x, q_rows, s.q_cols, s.in_step, s.in_offset, s.qn, s.qp, w.q.data(), s.q_stride);
  ConvShape cs = s.conv;
  cs.n = n;
  const int64_t rows = linear ? n : n * s.out.pixels();
  w.acc.resize(static_cast<size_t>(rows * oc));
  if (s.kind == Kind::kDepthwise) {
    detail::depthwise_s16(w.q.data(), s.q_stride, cs, s.dw.data(), w.acc.data());
  } else if (s.direct) {
    detail::gemm_s16(w.q.data(), rows, s.q_stride, s.b[0], w.acc.data(), oc);
  } else {
    w.a.resize(static_cast<size_t>(rows * s.lda));
    const int64_t ocg = oc / cs.groups;
    for (int64_t g = 0; g < cs.groups; ++g) {
      detail::im2col(w.q.data(), s.q_stride, cs, g, w.a.data(), s.lda);
      detail::gemm_s16(w.a.data(), rows, s.lda, s.b[static_cast<size_t>(g)], w.acc.data() + g * ocg, oc);
    }
  }
  const float* corr = s.corr.empty() ? nullptr : s.corr.data();
  const int64_t pixels = linear ? 1 : s.out.pixels();
  at::parallel_for(
      0, rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, oc)), [&](int64_t r0, int64_t r1) {
        requantize_rows(w.acc.data(), r0, r1, oc, s.scale.data(), s.shift.data(), corr, pixels, s.act, out);
      });
}

void IntegerModel::Impl::run_float(const Step& s, Workspace& w, int64_t n, const float* x, float* out) const {
  const Dims in = dims(s.inputs[0]);
  const bool linear = s.kind == Kind::kLinear;
  const int64_t oc = s.out.c, count = n * in.size();
  if (s.quantize_input) {
    w.xf.resize(static_cast<size_t>(count));
    detail::fake_quantize(x, count, s.in_step, s.in_offset, s.qn, s.qp, w.xf.data());
    x = w.xf.data();
  }
  ConvShape cs = s.conv;
  cs.n = n;
  const int64_t rows = linear ? n : n * s.out.pixels();
  w.accf.resize(static_cast<size_t>(rows * oc));
  auto matmul = [&](const float* a_ptr, int64_t k, const torch::Tensor& w, float* c_ptr) {
    torch::Tensor c = torch::from_blob(c_ptr, {rows, w.size(1)}, torch::kFloat);
    at::mm_out(c, torch::from_blob(const_cast<float*>(a_ptr), {rows, k}, torch::kFloat), w);
  };
  if (s.kind == Kind::kDepthwise) {
    detail::depthwise_f32(x, in.c, cs, s.dwf.data(), w.accf.data());
  } else if (s.direct) {
    matmul(x, s.q_cols, s.wf[0], w.accf.data());
  } else {
    w.af.resize(static_cast<size_t>(rows * s.lda));
    const int64_t ocg = oc / cs.groups;
    for (int64_t g = 0; g < cs.groups; ++g) {
      detail::im2col(x, in.c, cs, g, w.af.data(), s.lda);
      if (cs.groups == 1) {
        matmul(w.af.data(), s.lda, s.wf[0], w.accf.data());
        break;
      }
      w.tmp.resize(static_cast<size_t>(rows * ocg));
      matmul(w.af.data(), s.lda, s.wf[static_cast<size_t>(g)], w.tmp.data());
      for (int64_t r = 0; r < rows; ++r)
        std::memcpy(w.accf.data() + r * oc + g * ocg, w.tmp.data() + r * ocg,
                    static_cast<size_t>(ocg) * sizeof(float));
    }
  }
  at::parallel_for(
      0, rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, oc)), [&](int64_t r0, int64_t r1) {
        requantize_rows(w.accf.data(), r0, r1, oc, s.scale.data(), s.shift.data(), nullptr, 1, s.act, out);
      });
}

void IntegerModel::Impl::run(const Step& s, Workspace& w, int64_t n, float* out) const {
  const Dims in = dims(s.inputs[0]);
  const float* x = data(w, s.inputs[0]);
  const int64_t oc = s.out.c;
  switch (s.kind) {
    case Kind::kConv:
    case Kind::kDepthwise:
    case Kind::kLinear: return s.integer ? run_integer(s, w, n, x, out) : run_float(s, w, n, x, out);
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
      const float* b = data(w, s.inputs[1]);
      const int64_t total = n * s.out.size();
      for (int64_t i = 0; i < total; ++i) out[i] = activate(x[i] + b[i], s.act);
      return;
    }
    case Kind::kMul: {
      const Dims other = dims(s.inputs[1]);
      const float* b = data(w, s.inputs[1]);
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
  return impl_->forward(x, nullptr);
}

nlohmann::json IntegerModel::profile(const torch::Tensor& x, int runs) {
  std::vector<double> ms(impl_->steps.size() + 1, 0.0);
  for (int r = 0; r < runs; ++r) impl_->forward(x, &ms);
  nlohmann::json out = nlohmann::json::array();
  out.push_back({{"name", "input"}, {"kind", "nchw_to_nhwc"}, {"ms", ms[0] / runs}});
  for (size_t i = 0; i < impl_->steps.size(); ++i)
    out.push_back({{"name", impl_->steps[i].name},
                   {"kind", summary().at("layers").at(i).at("kind")},
                   {"ms", ms[i + 1] / runs}});
  return out;
}

void IntegerModel::Impl::forward_chunk(const float* x, int64_t n, Workspace& w, std::vector<double>* ms,
                                       float* y) const {
  auto t0 = std::chrono::steady_clock::now();
  auto lap = [&](size_t i) {
    if (!ms) return;
    const auto t = std::chrono::steady_clock::now();
    (*ms)[i] += std::chrono::duration<double, std::milli>(t - t0).count();
    t0 = t;
  };
  // NCHW -> NHWC into the reused input buffer (no per-call allocation).
  const int64_t c = input_dims.c, px = input_dims.pixels();
  w.input.resize(static_cast<size_t>(n * input_dims.size()));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* src = x + (i * c + ch) * px;
      float* dst = w.input.data() + i * px * c + ch;
      for (int64_t p = 0; p < px; ++p) dst[p * c] = src[p];
    }
  w.outs.resize(steps.size());
  lap(0);
  for (size_t i = 0; i < steps.size(); ++i) {
    w.outs[i].resize(static_cast<size_t>(n * steps[i].out.size()));
    run(steps[i], w, n, w.outs[i].data());
    lap(i + 1);
  }
  // The last output, NHWC -> the reference's NCHW-flattened rows.
  const Dims& last = steps.back().out;
  const float* out = w.outs.back().data();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < last.pixels(); ++p)
      for (int64_t ch = 0; ch < last.c; ++ch)
        y[i * last.size() + ch * last.pixels() + p] = out[(i * last.pixels() + p) * last.c + ch];
}

torch::Tensor IntegerModel::Impl::forward(const torch::Tensor& x, std::vector<double>* ms) {
  if (x.dim() != 4 || x.size(1) != in_channels)
    throw util::input_error("input must be [N, " + std::to_string(in_channels) + ", H, W]")
        .field("input")
        .value(c10::str(x.sizes()));
  const torch::Tensor xr = data::resize_batch(x.to(torch::kFloat), resolution).contiguous();
  const int64_t n = xr.size(0), threads = at::get_num_threads();
  const int64_t chunks = (ms || threads < 2 || n < 2 * threads) ? 1 : threads;
  if (static_cast<int64_t>(spaces.size()) < chunks) spaces.resize(static_cast<size_t>(chunks));
  torch::Tensor y = torch::empty({n, steps.back().out.size()}, torch::kFloat);
  auto begin = [&](int64_t c) { return n * c / chunks; };
  auto run_chunk = [&](int64_t c) {
    forward_chunk(xr.data_ptr<float>() + begin(c) * input_dims.size(), begin(c + 1) - begin(c),
                  spaces[static_cast<size_t>(c)], ms, y.data_ptr<float>() + begin(c) * y.size(1));
  };
  if (chunks == 1)
    run_chunk(0);
  else
    at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) run_chunk(c);
    });
  return y;
}

}  // namespace oqa::deploy
