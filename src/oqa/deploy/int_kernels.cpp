// Integer kernels: quantization, im2col, the packed int16 GEMM (AVX2 madd, generic fallback), depthwise conv.
#include "oqa/deploy/int_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include <ATen/Parallel.h>

#include "oqa/quant/lsq_kernels.h"
#include "oqa/util/error.h"

namespace oqa::deploy::detail {
namespace {

constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: (t + magic) - magic rounds half to even
constexpr int64_t kBlockCols = 16;

int64_t grain_rows(int64_t work_per_row) {
  return std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, work_per_row));
}

__attribute__((target_clones("avx2", "default"))) void quantize_span(const float* x, int64_t r0, int64_t r1,
                                                                     int64_t cc, float s, float b, float qn,
                                                                     float qp, int16_t* q, int64_t qs) {
  for (int64_t i = r0; i < r1; ++i) {
    const float* xr = x + i * cc;
    int16_t* qr = q + i * qs;
    for (int64_t c = 0; c < cc; ++c) {
      float t = (xr[c] - b) / s;
      t = std::min(qp, std::max(qn, t));  // in this order a NaN becomes qn: never cast to int16 (undefined)
      qr[c] = static_cast<int16_t>((t + kRoundMagic) - kRoundMagic);
    }
    for (int64_t c = cc; c < qs; ++c) qr[c] = 0;
  }
}

// One block of 16 columns for rows [r0, r1) with AVX2: 4 rows at a time, 8 accumulators.
__attribute__((target("avx2"))) void gemm_block_avx2(const int16_t* a, int64_t r0, int64_t r1, int64_t lda,
                                                     const int16_t* bp, int64_t kp, int32_t* c, int64_t ldc,
                                                     int64_t cols) {
  alignas(32) int32_t tile[4][kBlockCols];
  int64_t i = r0;
  for (; i < r1; i += 4) {
    const int64_t rows = std::min<int64_t>(4, r1 - i);
    const int16_t* ar[4];
    for (int64_t r = 0; r < 4; ++r) ar[r] = a + (i + std::min(r, rows - 1)) * lda;
    __m256i acc[4][2];
    for (auto& row : acc) row[0] = row[1] = _mm256_setzero_si256();
    for (int64_t kk = 0; kk < kp; ++kk) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + kk * 32));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + kk * 32 + 16));
      for (int64_t r = 0; r < 4; ++r) {
        int32_t pair;
        std::memcpy(&pair, ar[r] + 2 * kk, sizeof(pair));
        const __m256i x = _mm256_set1_epi32(pair);
        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(x, b0));
        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(x, b1));
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      int32_t* out = c + (i + r) * ldc;
      if (cols == kBlockCols) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), acc[r][0]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), acc[r][1]);
      } else {
        _mm256_store_si256(reinterpret_cast<__m256i*>(tile[r]), acc[r][0]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(tile[r] + 8), acc[r][1]);
        std::memcpy(out, tile[r], static_cast<size_t>(cols) * sizeof(int32_t));
      }
    }
  }
}

// The same block with AVX-512 VNNI: vpdpwssd multiplies int16 pairs and adds them into 16 int32 lanes in one
// instruction (= madd + add of the AVX2 path, without saturation, so both give the same sums); 8 rows at a
// time, one 512-bit accumulator (the block's 16 columns) per row.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void gemm_block_vnni(const int16_t* a, int64_t r0,
                                                                           int64_t r1, int64_t lda,
                                                                           const int16_t* bp, int64_t kp,
                                                                           int32_t* c, int64_t ldc, int64_t cols) {
  const __mmask16 keep = static_cast<__mmask16>((1u << cols) - 1u);
  for (int64_t i = r0; i < r1; i += 8) {
    const int64_t rows = std::min<int64_t>(8, r1 - i);
    const int16_t* ar[8];
    for (int64_t r = 0; r < 8; ++r) ar[r] = a + (i + std::min(r, rows - 1)) * lda;
    __m512i acc[8];
    for (auto& x : acc) x = _mm512_setzero_si512();
    for (int64_t kk = 0; kk < kp; ++kk) {
      const __m512i b = _mm512_loadu_si512(bp + kk * 32);
      for (int64_t r = 0; r < 8; ++r) {
        int32_t pair;
        std::memcpy(&pair, ar[r] + 2 * kk, sizeof(pair));
        acc[r] = _mm512_dpwssd_epi32(acc[r], _mm512_set1_epi32(pair), b);
      }
    }
    for (int64_t r = 0; r < rows; ++r) _mm512_mask_storeu_epi32(c + (i + r) * ldc, keep, acc[r]);
  }
}

void gemm_block_generic(const int16_t* a, int64_t r0, int64_t r1, int64_t lda, const int16_t* bp, int64_t kp,
                        int32_t* c, int64_t ldc, int64_t cols) {
  for (int64_t i = r0; i < r1; ++i) {
    int32_t acc[kBlockCols] = {};
    const int16_t* ar = a + i * lda;
    for (int64_t kk = 0; kk < kp; ++kk) {
      const int32_t x0 = ar[2 * kk], x1 = ar[2 * kk + 1];
      const int16_t* bk = bp + kk * 32;
      for (int64_t j = 0; j < kBlockCols; ++j) acc[j] += x0 * bk[2 * j] + x1 * bk[2 * j + 1];
    }
    std::memcpy(c + i * ldc, acc, static_cast<size_t>(cols) * sizeof(int32_t));
  }
}

bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

bool have_vnni() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vnni");
  return yes;
}

template <typename T, typename Acc>
__attribute__((always_inline)) inline void depthwise_body(const T* q, int64_t qs, const ConvShape& s,
                                                          const T* w, Acc* acc, int64_t r0, int64_t r1) {
  const int64_t ch = s.c;
  for (int64_t row = r0; row < r1; ++row) {  // row = n * oh + oy
    const int64_t n = row / s.oh, oy = row % s.oh;
    for (int64_t ox = 0; ox < s.ow; ++ox) {
      Acc* out = acc + (row * s.ow + ox) * ch;
      for (int64_t c = 0; c < ch; ++c) out[c] = 0;
      for (int64_t kh = 0; kh < s.k; ++kh) {
        const int64_t iy = oy * s.stride - s.pad + kh;
        if (iy < 0 || iy >= s.h) continue;
        for (int64_t kw = 0; kw < s.k; ++kw) {
          const int64_t ix = ox * s.stride - s.pad + kw;
          if (ix < 0 || ix >= s.w) continue;
          const T* qi = q + ((n * s.h + iy) * s.w + ix) * qs;
          const T* wt = w + (kh * s.k + kw) * ch;
          for (int64_t c = 0; c < ch; ++c) out[c] += static_cast<Acc>(qi[c]) * static_cast<Acc>(wt[c]);
        }
      }
    }
  }
}

__attribute__((target_clones("avx2", "default"))) void depthwise_rows(const int16_t* q, int64_t qs,
                                                                      const ConvShape& s, const int16_t* w,
                                                                      int32_t* acc, int64_t r0, int64_t r1) {
  depthwise_body(q, qs, s, w, acc, r0, r1);
}

__attribute__((target_clones("avx2", "default"))) void depthwise_rows(const float* x, int64_t xs,
                                                                      const ConvShape& s, const float* w,
                                                                      float* acc, int64_t r0, int64_t r1) {
  depthwise_body(x, xs, s, w, acc, r0, r1);
}

template <typename T>
void im2col_any(const T* q, int64_t q_stride, const ConvShape& s, int64_t group, T* a, int64_t lda) {
  const int64_t cg = s.in_per_group(), rows = s.n * s.oh * s.ow, used = s.k * s.k * cg;
  at::parallel_for(0, rows, grain_rows(lda), [&](int64_t r0, int64_t r1) {
    for (int64_t p = r0; p < r1; ++p) {
      const int64_t n = p / (s.oh * s.ow), oy = (p / s.ow) % s.oh, ox = p % s.ow;
      T* row = a + p * lda;
      for (int64_t kh = 0; kh < s.k; ++kh) {
        const int64_t iy = oy * s.stride - s.pad + kh;
        for (int64_t kw = 0; kw < s.k; ++kw) {
          const int64_t ix = ox * s.stride - s.pad + kw;
          T* dst = row + (kh * s.k + kw) * cg;
          if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
            std::memset(dst, 0, static_cast<size_t>(cg) * sizeof(T));
          else
            std::memcpy(dst, q + ((n * s.h + iy) * s.w + ix) * q_stride + group * cg,
                        static_cast<size_t>(cg) * sizeof(T));
        }
      }
      std::memset(row + used, 0, static_cast<size_t>(lda - used) * sizeof(T));
    }
  });
}

}  // namespace

void quantize_rows(const float* x, int64_t rows, int64_t c_count, float s, float b, int qn, int qp,
                   int16_t* q, int64_t q_stride) {
  at::parallel_for(0, rows, grain_rows(c_count), [&](int64_t r0, int64_t r1) {
    quantize_span(x, r0, r1, c_count, s, b, static_cast<float>(qn), static_cast<float>(qp), q, q_stride);
  });
}

void im2col(const int16_t* q, int64_t q_stride, const ConvShape& s, int64_t group, int16_t* a, int64_t lda) {
  im2col_any(q, q_stride, s, group, a, lda);
}

void im2col(const float* x, int64_t x_stride, const ConvShape& s, int64_t group, float* a, int64_t lda) {
  im2col_any(x, x_stride, s, group, a, lda);
}

PackedB pack_b(const int32_t* w, int64_t n, int64_t k) {
  PackedB b;
  b.k = k, b.n = n, b.kp = (k + 1) / 2, b.blocks = (n + kBlockCols - 1) / kBlockCols;
  b.data.assign(static_cast<size_t>(b.blocks * b.kp * 32), 0);
  for (int64_t col = 0; col < n; ++col)
    for (int64_t kk = 0; kk < k; ++kk) {
      const int64_t nb = col / kBlockCols, j = col % kBlockCols;
      b.data[static_cast<size_t>((nb * b.kp + kk / 2) * 32 + j * 2 + kk % 2)] =
          static_cast<int16_t>(w[col * k + kk]);
    }
  return b;
}

bool gemm_variant_available(GemmVariant v) {
  switch (v) {
    case GemmVariant::kGeneric:
      return true;
    case GemmVariant::kAvx2:
      return have_avx2();
    case GemmVariant::kAvx512Vnni:
      return have_vnni();
  }
  return false;
}

GemmVariant best_gemm_variant() {
  return have_vnni() ? GemmVariant::kAvx512Vnni : have_avx2() ? GemmVariant::kAvx2 : GemmVariant::kGeneric;
}

const char* to_string(GemmVariant v) {
  switch (v) {
    case GemmVariant::kGeneric:
      return "generic";
    case GemmVariant::kAvx2:
      return "avx2";
    case GemmVariant::kAvx512Vnni:
      return "avx512-vnni";
  }
  return "?";
}

void gemm_s16(const int16_t* a, int64_t m, int64_t lda, const PackedB& b, int32_t* c, int64_t ldc,
              GemmVariant variant) {
  OQA_ASSERT(gemm_variant_available(variant), "GEMM variant not supported by this CPU");
  using Block = void (*)(const int16_t*, int64_t, int64_t, int64_t, const int16_t*, int64_t, int32_t*, int64_t,
                         int64_t);
  const Block block = variant == GemmVariant::kAvx512Vnni ? gemm_block_vnni
                      : variant == GemmVariant::kAvx2     ? gemm_block_avx2
                                                          : gemm_block_generic;
  at::parallel_for(0, m, grain_rows(2 * b.kp * b.n), [&](int64_t r0, int64_t r1) {
    for (int64_t nb = 0; nb < b.blocks; ++nb) {
      const int16_t* bp = b.data.data() + nb * b.kp * 32;
      const int64_t cols = std::min(kBlockCols, b.n - nb * kBlockCols);
      block(a, r0, r1, lda, bp, b.kp, c + nb * kBlockCols, ldc, cols);
    }
  });
}

void gemm_s16(const int16_t* a, int64_t m, int64_t lda, const PackedB& b, int32_t* c, int64_t ldc) {
  gemm_s16(a, m, lda, b, c, ldc, best_gemm_variant());
}

void depthwise_s16(const int16_t* q, int64_t q_stride, const ConvShape& s, const int16_t* w, int32_t* acc) {
  at::parallel_for(0, s.n * s.oh, grain_rows(s.ow * s.k * s.k * s.c),
                   [&](int64_t r0, int64_t r1) { depthwise_rows(q, q_stride, s, w, acc, r0, r1); });
}

void depthwise_f32(const float* x, int64_t x_stride, const ConvShape& s, const float* w, float* acc) {
  at::parallel_for(0, s.n * s.oh, grain_rows(s.ow * s.k * s.k * s.c),
                   [&](int64_t r0, int64_t r1) { depthwise_rows(x, x_stride, s, w, acc, r0, r1); });
}

void fake_quantize(const float* x, int64_t n, float s, float b, int qn, int qp, float* y) {
  // The training quantizer's own forward kernel (per tensor: one channel).
  quant::detail::LsqParams p{&s, b != 0.0f ? &b : nullptr, static_cast<float>(qn), static_cast<float>(qp)};
  quant::detail::lsq_forward(x, y, quant::detail::LsqLayout{n, 1, n}, p);
}

const char* gemm_variant() { return to_string(best_gemm_variant()); }

int parallel_width() {
  const int64_t n = at::get_num_threads();
  std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
  at::parallel_for(0, n, 1, [&](int64_t, int64_t) { seen[static_cast<size_t>(at::get_thread_num())] = 1; });
  int width = 0;
  for (const auto& s : seen) width += s.load();
  return width;
}

}  // namespace oqa::deploy::detail
