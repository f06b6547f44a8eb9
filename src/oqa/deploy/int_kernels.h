// Kernels of the runtime on raw arrays: activation quantization, im2col, the int16 x int16 -> int32 GEMM
// (AVX2 when the CPU has it) and the depthwise convolution, all on NHWC layouts; float twins for dequantized
// layers.
#pragma once

#include <cstdint>
#include <vector>

namespace oqa::deploy::detail {

// q[i * q_stride + c] = clamp(round_half_even((x[i * c_count + c] - b) / s), qn, qp) for i < rows, c <
// c_count; the same arithmetic as the LSQ fake quantizer, so both agree level for level. Padding columns
// [c_count, q_stride) are set to 0.
void quantize_rows(const float* x, int64_t rows, int64_t c_count, float s, float b, int qn, int qp,
                   int16_t* q, int64_t q_stride);

// Geometry of one convolution on NHWC tensors.
struct ConvShape {
  int64_t n = 1, h = 1, w = 1, c = 1;  // input
  int64_t oh = 1, ow = 1, oc = 1;      // output
  int64_t k = 1, stride = 1, pad = 0, groups = 1;
  int64_t in_per_group() const { return c / groups; }
  int64_t out_per_group() const { return oc / groups; }
};

// A[p][(kh * k + kw) * cg + ci] = q[n, ih, iw, group * cg + ci] (0 outside the image), row p = (n, oh, ow),
// row stride lda (>= k * k * cg, even; the tail is zero). q has channel stride q_stride.
void im2col(const int16_t* q, int64_t q_stride, const ConvShape& s, int64_t group, int16_t* a, int64_t lda);
void im2col(const float* x, int64_t x_stride, const ConvShape& s, int64_t group, float* a, int64_t lda);

// GEMM weights packed for gemm_s16: columns in blocks of 16, rows (k) in pairs: b[(nb * kp + kk) * 32 + j * 2
// + r] = w[nb * 16 + j][2 * kk + r] (0 past the edges), kp = ceil(k / 2).
struct PackedB {
  int64_t k = 0, n = 0, kp = 0, blocks = 0;
  std::vector<int16_t> data;
};
// w is [n][k] row-major (one output per row).
PackedB pack_b(const int32_t* w, int64_t n, int64_t k);

// c[m][ldc] (first b.n columns) = a[m][lda] x b, int32 accumulation; lda >= 2 * b.kp with zeros past k.
// Parallel over row blocks. The best variant this CPU has (AVX-512 VNNI, else AVX2, else generic), chosen at
// run time; every variant gives the same int32 sums.
void gemm_s16(const int16_t* a, int64_t m, int64_t lda, const PackedB& b, int32_t* c, int64_t ldc);

enum class GemmVariant { kGeneric, kAvx2, kAvx512Vnni };
bool gemm_variant_available(GemmVariant v);
GemmVariant best_gemm_variant();
const char* to_string(GemmVariant v);  // "generic", "avx2", "avx512-vnni"
// One given variant (tests, benchmarks); it must be available.
void gemm_s16(const int16_t* a, int64_t m, int64_t lda, const PackedB& b, int32_t* c, int64_t ldc,
              GemmVariant variant);

// Depthwise convolution (groups == c == oc): acc[p][c] = sum over valid taps of q[n, ih, iw, c] * w[tap][c];
// w is [k * k][c]. q has channel stride q_stride; acc is [n * oh * ow][c].
void depthwise_s16(const int16_t* q, int64_t q_stride, const ConvShape& s, const int16_t* w, int32_t* acc);
void depthwise_f32(const float* x, int64_t x_stride, const ConvShape& s, const float* w, float* acc);

// y[i] = clamp(round_half_even((x[i] - b) / s), qn, qp) * s + b: the fake quantizer, for layers that run in
// float (float or asymmetric weights) but still quantize their input.
void fake_quantize(const float* x, int64_t n, float s, float b, int qn, int qp, float* y);

// Which GEMM variant runs: to_string(best_gemm_variant()).
const char* gemm_variant();

// How many distinct threads one of this file's parallel loops runs on right now (at::parallel_for is
// header-inline: without OpenMP at compile time it is serial whatever at::get_num_threads() says).
int parallel_width();

}  // namespace oqa::deploy::detail
