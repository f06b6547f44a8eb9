// The fused LSQ op against the composed reference for every spec, on the grid, and on hand-computed cases.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <tuple>
#include <vector>

#include "oqa/quant/lsq.h"
#include "oqa/quant/lsq_kernels.h"
#include "oqa/util/error.h"
#include "quant/lsq_test_support.h"

namespace oqa::quant {
namespace {

using testing::expect_matches_reference;
using testing::make_case;
using testing::run_lsq;

QuantSpec spec_of(int bits, bool is_signed, bool per_channel, bool symmetric, int64_t axis = 0) {
  QuantSpec s;
  s.bits = bits;
  s.is_signed = is_signed;
  s.granularity = per_channel ? Granularity::kPerChannel : Granularity::kPerTensor;
  s.axis = axis;
  s.symmetric = symmetric;
  return s;
}

// Every instruction-set variant of the kernels this CPU can run, restoring the default afterwards.
std::vector<detail::SimdLevel> simd_levels() {
  std::vector<detail::SimdLevel> out;
  for (int l = 0; l <= static_cast<int>(detail::best_simd_level()); ++l) out.push_back(static_cast<detail::SimdLevel>(l));
  return out;
}

struct SimdLevelGuard {
  detail::SimdLevel saved = detail::simd_level();
  ~SimdLevelGuard() { detail::set_simd_level(saved); }
};

// Every form: bits 2..8 x signed/unsigned x per-tensor/per-channel x symmetric/asymmetric (one test each
// for the checks below, looping, so that ctest does not start 112 processes).
std::vector<QuantSpec> every_form(int64_t axis) {
  std::vector<QuantSpec> out;
  for (int bits = 2; bits <= 8; ++bits)
    for (bool is_signed : {false, true})
      for (bool per_channel : {false, true})
        for (bool symmetric : {false, true}) out.push_back(spec_of(bits, is_signed, per_channel, symmetric, axis));
  return out;
}

TEST(LsqOp, EveryFormMatchesComposedReference) {
  SimdLevelGuard guard;
  for (const auto& spec : every_form(/*axis=*/1)) {
    SCOPED_TRACE(spec.key());
    // [outer, C, inner] with the channel axis in the middle; inner 53 leaves SIMD tails for every width.
    auto c = make_case(spec, {3, 6, 53}, 1000 + spec.bits);
    auto want = run_lsq(c, false);
    for (auto level : simd_levels()) {
      SCOPED_TRACE(detail::to_string(level));
      detail::set_simd_level(level);
      expect_matches_reference(c, run_lsq(c, true), want);
    }
  }
}

TEST(LsqOp, EveryFormOutputsLieOnTheGrid) {
  for (const auto& spec : every_form(/*axis=*/0)) {
    SCOPED_TRACE(spec.key());
    auto c = make_case(spec, {5, 40}, 2000 + spec.bits);
    auto y = run_lsq(c, true).y;
    auto s = testing::broadcast_table(testing::effective(c.step, c.grad_scale), c.x, spec);
    auto b = c.offset.defined() ? testing::broadcast_table(testing::effective(c.offset, c.grad_scale), c.x, spec)
                                : torch::zeros({});
    auto v = (y - b) / s;
    // (v*s + b - b) / s carries a few ulps of |v| <= 255 (and of |b| / s).
    EXPECT_LT((v - v.round()).abs().max().item<double>(), 1e-3);
    // Inside [Qn, Qp], and both limits are reached: the data go beyond them.
    EXPECT_EQ(v.round().min().item<double>(), static_cast<double>(spec.qn()));
    EXPECT_EQ(v.round().max().item<double>(), static_cast<double>(spec.qp()));
  }
}

TEST(LsqOp, PerChannelAxisZeroAndLastAxis) {
  for (int64_t axis : {0, 2}) {
    auto c = make_case(spec_of(4, true, true, false, axis), {7, 5, 9}, 31 + axis);
    expect_matches_reference(c, run_lsq(c, true), run_lsq(c, false));
  }
}

TEST(LsqOp, PerTensorOffsetWithPerChannelStep) {
  auto c = make_case(spec_of(3, false, true, false), {6, 33}, 41, /*per_channel_offset=*/false);
  ASSERT_EQ(c.offset.numel(), 1);
  auto got = run_lsq(c, true);
  expect_matches_reference(c, got, run_lsq(c, false));
  EXPECT_EQ(got.doffset.sizes(), c.offset.sizes());
}

TEST(LsqOp, LargeTensorsAcrossChunksAndThreads) {
  // Rows of 20011 elements straddle the kernel's 32768-element chunks; per-tensor spans many chunks.
  const int saved = at::get_num_threads();
  for (auto spec : {spec_of(4, true, true, true), spec_of(4, false, false, false)}) {
    auto c = make_case(spec, {9, 20011}, 51);
    at::set_num_threads(1);
    auto one = run_lsq(c, true);
    at::set_num_threads(2);
    auto two = run_lsq(c, true);
    expect_matches_reference(c, two, run_lsq(c, false));
    // Chunk sums are reduced in a fixed order: the thread count does not change a bit.
    EXPECT_TRUE(torch::equal(one.y, two.y));
    EXPECT_TRUE(torch::equal(one.dx, two.dx));
    EXPECT_TRUE(torch::equal(one.dstep, two.dstep)) << spec.key();
    if (one.doffset.defined()) {
      EXPECT_TRUE(torch::equal(one.doffset, two.doffset));
    }
  }
  at::set_num_threads(saved);
}

TEST(LsqOp, NonContiguousInput) {
  auto spec = spec_of(5, true, true, true, 1);
  auto c = make_case(spec, {4, 7, 19}, 61);
  auto xt = c.x.transpose(0, 2).contiguous().transpose(0, 2);  // same values, non-contiguous strides
  ASSERT_FALSE(xt.is_contiguous());
  auto x = xt.clone(torch::MemoryFormat::Preserve).requires_grad_(true);
  ASSERT_FALSE(x.is_contiguous());
  auto s = c.step.clone().requires_grad_(true);
  auto y = lsq_quantize(x, s, {}, spec, c.grad_scale);
  y.backward(c.dy);
  auto want = run_lsq(c, false);
  EXPECT_TRUE(torch::equal(y.detach(), want.y));
  testing::LsqResult got{y.detach(), x.grad(), s.grad(), {}};
  expect_matches_reference(c, got, want);
}

TEST(LsqOp, GradientsOnlyWhereRequired) {
  auto spec = spec_of(4, false, false, true);
  auto c = make_case(spec, {100}, 71);
  auto s = c.step.clone().requires_grad_(true);
  auto y = lsq_quantize(c.x, s, {}, spec, c.grad_scale);  // x needs no gradient
  y.backward(c.dy);
  auto want = run_lsq(c, false);
  EXPECT_TRUE(torch::allclose(s.grad(), want.dstep, 1e-6, 1e-6));
  // Nothing requires a gradient: the op is a plain function.
  auto y2 = lsq_quantize(c.x, c.step, {}, spec, c.grad_scale);
  EXPECT_FALSE(y2.requires_grad());
  EXPECT_TRUE(torch::equal(y2, want.y));
}

// Signed 2-bit (Qn = -2, Qp = 1), s = 0.5, g = 0.25 (so (s - s*g) + s*g is exactly s).
TEST(LsqOp, HandComputedSymmetric) {
  auto spec = spec_of(2, true, false, true);
  auto x = torch::tensor({-1.3f, -0.2f, 0.3f, 0.9f}).requires_grad_(true);
  auto s = torch::tensor({0.5f}).requires_grad_(true);
  auto y = lsq_quantize(x, s, {}, spec, 0.25);
  y.backward(torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}));
  // t = x/s = -2.6 (clamped to -2), -0.4 (-> 0), 0.6 (-> 1), 1.8 (clamped to 1).
  EXPECT_TRUE(torch::equal(y.detach(), torch::tensor({-1.0f, 0.0f, 0.5f, 0.5f})));
  EXPECT_TRUE(torch::equal(x.grad(), torch::tensor({0.0f, 2.0f, 3.0f, 0.0f})));
  // ds = g * (1*(-2) + 2*(0 - (-0.4)) + 3*(1 - 0.6) + 4*1) = 0.25 * 4.0
  EXPECT_NEAR(s.grad().item<double>(), 1.0, 1e-6);
}

// Unsigned 2-bit (Qn = 0, Qp = 3), s = 0.5, beta = -0.25, g = 0.25.
TEST(LsqOp, HandComputedAsymmetric) {
  auto spec = spec_of(2, false, false, false);
  auto x = torch::tensor({-0.6f, 0.1f, 0.65f, 1.8f}).requires_grad_(true);
  auto s = torch::tensor({0.5f}).requires_grad_(true);
  auto b = torch::tensor({-0.25f}).requires_grad_(true);
  auto y = lsq_quantize(x, s, b, spec, 0.25);
  y.backward(torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}));
  // t = (x - beta)/s = -0.7 (clamped to 0), 0.7 (-> 1), 1.8 (-> 2), 4.1 (clamped to 3).
  EXPECT_TRUE(torch::equal(y.detach(), torch::tensor({-0.25f, 0.25f, 0.75f, 1.25f})));
  EXPECT_TRUE(torch::equal(x.grad(), torch::tensor({0.0f, 2.0f, 3.0f, 0.0f})));
  // ds = g * (1*0 + 2*(1 - 0.7) + 3*(2 - 1.8) + 4*3) = 0.25 * 13.2; dbeta = g * (1 + 4) (clamped only).
  EXPECT_NEAR(s.grad().item<double>(), 3.3, 1e-6);
  EXPECT_NEAR(b.grad().item<double>(), 1.25, 1e-6);
}

// torch.round's rule: ties go to the even integer (s = 0.25, g = 0.5 keep s exact).
TEST(LsqOp, RoundsHalfToEven) {
  auto spec = spec_of(8, true, false, true);
  auto x = torch::tensor({0.125f, 0.375f, 0.625f, -0.125f, -0.375f, -0.625f});  // t = +-0.5, 1.5, 2.5
  auto y = lsq_quantize(x, torch::tensor({0.25f}), {}, spec, 0.5);
  EXPECT_TRUE(torch::equal(y, torch::tensor({0.0f, 0.5f, 0.5f, 0.0f, -0.5f, -0.5f})));
  EXPECT_TRUE(torch::equal(y, lsq_quantize_reference(x, torch::tensor({0.25f}), {}, spec, 0.5)));
}

TEST(LsqOp, SimdVariantsAgree) {
  SimdLevelGuard guard;
  auto c = make_case(spec_of(3, false, true, false, 0), {5, 1001}, 81);
  detail::set_simd_level(detail::SimdLevel::kSse2);
  auto base = run_lsq(c, true);
  for (auto level : simd_levels()) {
    detail::set_simd_level(level);
    auto r = run_lsq(c, true);
    EXPECT_TRUE(torch::equal(r.y, base.y)) << detail::to_string(level);
    EXPECT_TRUE(torch::equal(r.dx, base.dx)) << detail::to_string(level);
    // Sums run in a different lane order: a float ulp or so of the (cancelling) result.
    EXPECT_TRUE(torch::allclose(r.dstep, base.dstep, 1e-5, 1e-6)) << detail::to_string(level);
    EXPECT_TRUE(torch::allclose(r.doffset, base.doffset, 1e-5, 1e-6)) << detail::to_string(level);
  }
  if (detail::best_simd_level() != detail::SimdLevel::kAvx512) {
    EXPECT_THROW(detail::set_simd_level(detail::SimdLevel::kAvx512), util::Error);
  }
}

TEST(LsqOp, FloatSpecIsIdentity) {
  auto x = torch::randn({10});
  EXPECT_TRUE(lsq_quantize(x, {}, {}, QuantSpec::float_spec(), 1.0).is_same(x));
}

}  // namespace
}  // namespace oqa::quant
