// Helpers for the LSQ tests: data with clamp-edge and tie values, run fused vs reference, tolerant compare.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "oqa/quant/lsq.h"
#include "oqa/quant/step_init.h"

namespace oqa::quant::testing {

// One op call's inputs.
struct LsqCase {
  QuantSpec spec;
  torch::Tensor x, step, offset, dy;
  double grad_scale = 1.0;
};

// Outputs and gradients of one op call.
struct LsqResult {
  torch::Tensor y, dx, dstep, doffset;
};

// Shape [1, ..., C at axis, ..., 1] that broadcasts a per-channel table (or a 0-dim tensor per tensor).
inline torch::Tensor broadcast_table(const torch::Tensor& t, const torch::Tensor& x, const QuantSpec& spec) {
  if (!spec.per_channel() || t.numel() == 1) return t.reshape({});
  std::vector<int64_t> shape(x.dim(), 1);
  shape[spec.axis] = t.numel();
  return t.reshape(shape);
}

// The step size / offset values the composed reference computes with: (v - v*g) + v*g in float.
inline torch::Tensor effective(const torch::Tensor& t, double g) {
  auto d = t.detach();
  return (d - d * g) + d * g;
}

// Random x over [Qn - 3, Qp + 3] steps, with every channel also holding values exactly at the clamp
// limits, just beyond them, and on rounding ties (k + 0.5) * s; dy random normal.
inline LsqCase make_case(const QuantSpec& spec, std::vector<int64_t> shape, uint64_t seed,
                         bool per_channel_offset = true) {
  torch::manual_seed(seed);
  LsqCase c;
  c.spec = spec;
  const int64_t channels = spec.per_channel() ? shape[spec.axis] : 1;
  // Step sizes: one power of two (exact ties), the rest irregular.
  c.step = torch::empty({channels});
  for (int64_t i = 0; i < channels; ++i) c.step[i] = i == 0 ? 0.125 : 0.03 * (1.0 + 0.37 * i);
  if (!spec.symmetric) {
    int64_t n = spec.per_channel() && per_channel_offset ? channels : 1;
    c.offset = torch::linspace(-0.3, 0.2, n);
  }
  const double qn = static_cast<double>(spec.qn()), qp = static_cast<double>(spec.qp());
  auto t = torch::rand(shape, torch::kDouble) * (qp - qn + 6.0) + (qn - 3.0);
  // Specials along the last dim: limits, just beyond, ties, half a step beyond.
  std::vector<double> specials = {qn, qp, qn - 1e-3, qp + 1e-3, qn - 0.5, qp + 0.5, qn + 0.5, qp - 0.5, 0.5, -0.5};
  for (double k = qn; k < qp; k += std::max(1.0, (qp - qn) / 8.0)) specials.push_back(k + 0.5);
  auto flat_last = t.reshape({-1, shape.back()});
  for (int64_t r = 0; r < flat_last.size(0); ++r)
    for (size_t j = 0; j < specials.size() && static_cast<int64_t>(j) < shape.back(); ++j)
      flat_last[r][(r + static_cast<int64_t>(j) * 3) % shape.back()] = specials[j];
  auto s = broadcast_table(c.step, t, spec).to(torch::kDouble);
  auto x = t * s;
  if (!spec.symmetric) x = x + broadcast_table(c.offset, t, spec).to(torch::kDouble);
  c.x = x.to(torch::kFloat).contiguous();
  c.dy = torch::randn(shape);
  c.grad_scale = grad_scale_for(c.x, spec);
  return c;
}

// Runs the fused op (fused = true) or the reference forward + backward with dy.
inline LsqResult run_lsq(const LsqCase& c, bool fused) {
  auto x = c.x.clone().requires_grad_(true);
  auto s = c.step.clone().requires_grad_(true);
  torch::Tensor b = c.offset.defined() ? c.offset.clone().requires_grad_(true) : torch::Tensor();
  auto y = fused ? lsq_quantize(x, s, b, c.spec, c.grad_scale) : lsq_quantize_reference(x, s, b, c.spec, c.grad_scale);
  y.backward(c.dy);
  LsqResult r;
  r.y = y.detach();
  r.dx = x.grad();
  r.dstep = s.grad();
  if (b.defined()) r.doffset = b.grad();
  return r;
}

// Passes when |got - want| <= rtol * max(|want|, floor) everywhere (floor broadcasts against want).
inline ::testing::AssertionResult all_close(const torch::Tensor& got, const torch::Tensor& want,
                                            const torch::Tensor& floor, double rtol, const std::string& what) {
  if (!got.defined() || !want.defined())
    return ::testing::AssertionFailure() << what << ": undefined tensor (got " << got.defined() << ", want "
                                         << want.defined() << ")";
  if (got.sizes() != want.sizes())
    return ::testing::AssertionFailure() << what << ": shape " << got.sizes() << " vs " << want.sizes();
  auto g = got.to(torch::kDouble), w = want.to(torch::kDouble);
  auto bound = rtol * torch::maximum(w.abs(), floor.to(torch::kDouble).expand_as(w));
  auto err = (g - w).abs();
  auto bad = err > bound;
  if (bad.any().item<bool>()) {
    auto idx = bad.reshape({-1}).nonzero()[0].item<int64_t>();
    return ::testing::AssertionFailure()
           << what << ": " << bad.sum().item<int64_t>() << " of " << w.numel() << " elements off; first at flat "
           << idx << ": got " << g.reshape({-1})[idx].item<double>() << ", want " << w.reshape({-1})[idx].item<double>()
           << ", allowed " << bound.reshape({-1})[idx].item<double>();
  }
  return ::testing::AssertionSuccess();
}

// Sums a per-element tensor into the shape of a table (per channel along spec.axis, or one value).
inline torch::Tensor sum_to_table(const torch::Tensor& v, const torch::Tensor& table, const QuantSpec& spec) {
  if (!spec.per_channel() || table.numel() == 1) return v.sum().reshape(table.sizes());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < v.dim(); ++d)
    if (d != spec.axis) dims.push_back(d);
  return v.sum(dims).reshape(table.sizes());
}

// Compares a fused result with the reference for one case (1e-6 relative).
// Absolute floors, for values near 0:
// - y: the channel's step size; y is v*s + beta, and any disagreement in v is at least one step.
// - dx: |dy|; dx is dy or 0, and the reference's dy*s/s may differ from dy by an ulp.
// - step and offset gradients are differences of float sums (the reference sums dy*v and dy*t separately
//   and subtracts), so its own rounding error scales with the sum of the magnitudes of the terms, not with
//   the (possibly cancelling) result: the floor is g * sum(|dy| * (|v| + |t| inside)) for the step size and
//   g * 2 * sum(|dy|) for the offset.
inline void expect_matches_reference(const LsqCase& c, const LsqResult& got, const LsqResult& want) {
  constexpr double kRtol = 1e-6;
  const auto& spec = c.spec;
  auto s = broadcast_table(effective(c.step, c.grad_scale), c.x, spec);
  auto b = c.offset.defined() ? broadcast_table(effective(c.offset, c.grad_scale), c.x, spec) : torch::zeros({});
  auto t = spec.symmetric ? c.x / s : (c.x - b) / s;
  auto inside = (t >= static_cast<double>(spec.qn())).logical_and(t <= static_cast<double>(spec.qp()));
  auto v = t.clamp(static_cast<double>(spec.qn()), static_cast<double>(spec.qp())).round();

  EXPECT_TRUE(all_close(got.y, want.y, s.expand_as(c.x), kRtol, "y " + spec.key()));
  EXPECT_TRUE(torch::equal(got.y, want.y)) << "forward is not bit-exact for " << spec.key();
  EXPECT_TRUE(all_close(got.dx, want.dx, c.dy.abs(), kRtol, "dx " + spec.key()));
  auto ds_scale = sum_to_table(c.dy.abs() * (v.abs() + t.abs() * inside), c.step, spec) * c.grad_scale;
  EXPECT_TRUE(all_close(got.dstep, want.dstep, ds_scale, kRtol, "dstep " + spec.key()));
  if (!spec.symmetric) {
    auto db_scale = sum_to_table(c.dy.abs() * 2.0, c.offset, spec) * c.grad_scale;
    EXPECT_TRUE(all_close(got.doffset, want.doffset, db_scale, kRtol, "doffset " + spec.key()));
  }
}

}  // namespace oqa::quant::testing
