// IntegerModel: executes the plan of int_plan.h, the NHWC forward pass over prepared layers.
#include "oqa/deploy/int_runtime.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "oqa/data/transforms.h"
#include "oqa/deploy/int_kernels.h"
#include "oqa/deploy/int_plan.h"
#include "oqa/util/error.h"

namespace oqa::deploy {
namespace {

using detail::ConvShape;
using detail::Dims;
using detail::Kind;
using detail::PackedB;
using detail::PreparedLayer;


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
  detail::IntegerPlan plan;
  std::vector<Workspace> spaces;

  const Dims& dims(int i) const { return plan.dims(i); }

  static const float* data(const Workspace& w, int i) {
    return i < 0 ? w.input.data() : w.outs[static_cast<size_t>(i)].data();
  }
  void run(const PreparedLayer& s, Workspace& w, int64_t n, float* out) const;
  void run_integer(const PreparedLayer& s, Workspace& w, int64_t n, const float* x, float* out) const;
  void run_float(const PreparedLayer& s, Workspace& w, int64_t n, const float* x, float* out) const;
  // Runs n NCHW images (x) through every step in w and writes their logits to y (n rows); with ms, adds
  // each step's milliseconds.
  void forward_chunk(const float* x, int64_t n, Workspace& w, std::vector<double>* ms, float* y) const;
  // The forward pass; with ms, adds each stage's milliseconds (input conversion first, then every step).
  // Batches of at least two images per thread are split across threads, one chunk and workspace each.
  torch::Tensor forward(const torch::Tensor& x, std::vector<double>* ms);
};

IntegerModel::IntegerModel(const DeployModel& m) : impl_(std::make_unique<Impl>()) {
  impl_->plan = detail::plan_integer_model(m);
}

IntegerModel::~IntegerModel() = default;
IntegerModel::IntegerModel(IntegerModel&&) noexcept = default;

int64_t IntegerModel::classes() const {
  return impl_->plan.layers.back().out.size();
}
int64_t IntegerModel::resolution() const {
  return impl_->plan.resolution;
}
int64_t IntegerModel::in_channels() const {
  return impl_->plan.in_channels;
}

nlohmann::json IntegerModel::summary() const {
  int integer = 0, fallback = 0;
  nlohmann::json layers = nlohmann::json::array();
  for (const PreparedLayer& s : impl_->plan.layers) {
    const bool weighted = s.kind == Kind::kConv || s.kind == Kind::kDepthwise || s.kind == Kind::kLinear;
    integer += weighted && s.integer;
    fallback += weighted && !s.integer;
    layers.push_back({{"name", s.name},
                      {"kind", weighted ? std::string(s.integer ? "int_" : "float_") + detail::to_string(s.kind)
                                        : std::string(detail::to_string(s.kind))}});
  }
  return {{"integer_layers", integer},
          {"float_layers", fallback},
          {"gemm", detail::gemm_variant()},
          {"layers", std::move(layers)}};
}

void IntegerModel::Impl::run_integer(const PreparedLayer& s, Workspace& w, int64_t n, const float* x,
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

void IntegerModel::Impl::run_float(const PreparedLayer& s, Workspace& w, int64_t n, const float* x, float* out) const {
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

void IntegerModel::Impl::run(const PreparedLayer& s, Workspace& w, int64_t n, float* out) const {
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
  std::vector<double> ms(impl_->plan.layers.size() + 1, 0.0);
  for (int r = 0; r < runs; ++r) impl_->forward(x, &ms);
  nlohmann::json out = nlohmann::json::array();
  out.push_back({{"name", "input"}, {"kind", "nchw_to_nhwc"}, {"ms", ms[0] / runs}});
  for (size_t i = 0; i < impl_->plan.layers.size(); ++i)
    out.push_back({{"name", impl_->plan.layers[i].name},
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
  const int64_t c = plan.input_dims.c, px = plan.input_dims.pixels();
  w.input.resize(static_cast<size_t>(n * plan.input_dims.size()));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* src = x + (i * c + ch) * px;
      float* dst = w.input.data() + i * px * c + ch;
      for (int64_t p = 0; p < px; ++p) dst[p * c] = src[p];
    }
  w.outs.resize(plan.layers.size());
  lap(0);
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    w.outs[i].resize(static_cast<size_t>(n * plan.layers[i].out.size()));
    run(plan.layers[i], w, n, w.outs[i].data());
    lap(i + 1);
  }
  // The last output, NHWC -> the reference's NCHW-flattened rows.
  const Dims& last = plan.layers.back().out;
  const float* out = w.outs.back().data();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < last.pixels(); ++p)
      for (int64_t ch = 0; ch < last.c; ++ch)
        y[i * last.size() + ch * last.pixels() + p] = out[(i * last.pixels() + p) * last.c + ch];
}

torch::Tensor IntegerModel::Impl::forward(const torch::Tensor& x, std::vector<double>* ms) {
  if (x.dim() != 4 || x.size(1) != plan.in_channels)
    throw util::input_error("input must be [N, " + std::to_string(plan.in_channels) + ", H, W]")
        .field("input")
        .value(c10::str(x.sizes()));
  if (!torch::isfinite(x).all().item<bool>())
    throw util::input_error("input holds a non-finite value (NaN or Inf)").field("input");
  const torch::Tensor xr = data::resize_batch(x.to(torch::kFloat), plan.resolution).contiguous();
  const int64_t n = xr.size(0), threads = at::get_num_threads();
  const int64_t chunks = (ms || threads < 2 || n < 2 * threads) ? 1 : threads;
  if (static_cast<int64_t>(spaces.size()) < chunks) spaces.resize(static_cast<size_t>(chunks));
  torch::Tensor y = torch::empty({n, plan.layers.back().out.size()}, torch::kFloat);
  auto begin = [&](int64_t c) { return n * c / chunks; };
  auto run_chunk = [&](int64_t c) {
    forward_chunk(xr.data_ptr<float>() + begin(c) * plan.input_dims.size(), begin(c + 1) - begin(c),
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
