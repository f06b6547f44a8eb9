// Fused LSQ CPU kernels on raw float arrays (internal to oqa_core: lsq_function.cpp wraps them, the deploy
// runtime fake-quantizes the inputs of its float layers with lsq_forward).
#pragma once

#include <cstdint>

namespace oqa::quant::detail {

// x seen as [outer, channels, inner] (contiguous); channel of flat element i is (i / inner) % channels.
// Per-tensor: channels = 1, inner = numel.
struct LsqLayout {
  int64_t numel = 0;
  int64_t channels = 1;
  int64_t inner = 0;
};

// Per-channel constants: step[c] > 0, offset[c] (nullptr: symmetric, no offset), levels [qn, qp].
struct LsqParams {
  const float* step = nullptr;
  const float* offset = nullptr;
  float qn = 0.0f;
  float qp = 0.0f;
};

// Instruction sets the kernels are built for; the best one the CPU has is picked on first use.
enum class SimdLevel { kSse2 = 0, kAvx2 = 1, kAvx512 = 2 };
const char* to_string(SimdLevel level);
SimdLevel best_simd_level();  // the best this CPU (and this build) supports
SimdLevel simd_level();       // the one in use
// Forces a level (tests run every variant); throws oqa::util::Error above best_simd_level().
void set_simd_level(SimdLevel level);

// y = clamp(round_half_even((x - b) / s), qn, qp) * s + b.
void lsq_forward(const float* x, float* y, const LsqLayout& layout, const LsqParams& p);

// dx = dy where qn <= t <= qp (t = (x - b) / s), else 0; dx may be nullptr (not needed).
// dstep[c] = sum over channel c of dy * (v - t) inside, dy * v outside (no grad scale applied).
// doffset[c] (only when p.offset) = sum over channel c of dy outside.
// Sums are accumulated in fixed-size chunks, so they do not depend on the thread count.
void lsq_backward(const float* x, const float* dy, float* dx, double* dstep, double* doffset,
                  const LsqLayout& layout, const LsqParams& p);

}  // namespace oqa::quant::detail
