// LSQ / LSQ+ fake quantization: the fused CPU autograd op and the composed LibTorch reference.
#pragma once

#include <torch/types.h>

#include "oqa/quant/quant_spec.h"

namespace oqa::quant {

// Fake-quantizes x with learned step size(s) (LSQ; LSQ+ when spec.symmetric is false):
//   t = (x - beta) / s,  v = clamp(round_half_even(t), Qn, Qp),  y = v * s + beta
// Gradients (straight-through estimator, "inside" means Qn <= t <= Qp):
//   dx = dy inside, 0 outside;  ds = g * sum(dy * (v - t)) inside + g * sum(dy * v) outside;
//   dbeta = g * sum(dy) outside, 0 inside.
// step:   1 element (per-tensor) or x.size(spec.axis) elements (per-channel), any shape; float32.
// offset: undefined when spec.symmetric; else 1 element, or x.size(axis) elements for per-channel specs.
// grad_scale: g, usually grad_scale_for(x, spec). x must be float32 (non-contiguous x is made contiguous).
// A float spec (bits == 0) returns x unchanged. CPU tensors use fused kernels (one pass each way, forward
// saves only x); other devices, and CPU tensors while util::own_cpu_kernels() is off, fall back to
// lsq_quantize_reference.
torch::Tensor lsq_quantize(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& offset,
                           const QuantSpec& spec, double grad_scale);

// The same function composed from LibTorch ops (grad-scale trick and round-STE written with detach, as in
// ../shared/peer/lsq_peer.py). Slow; the ground truth for tests and the benchmark.
torch::Tensor lsq_quantize_reference(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& offset,
                                     const QuantSpec& spec, double grad_scale);

// Checks x, step and offset against spec; throws oqa::util::Error naming the field (spec fields, "x",
// "step_size", "offset", "grad_scale"). Called by both functions above.
void check_lsq_inputs(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& offset,
                      const QuantSpec& spec, double grad_scale);

}  // namespace oqa::quant
