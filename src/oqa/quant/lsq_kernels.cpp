// Fused LSQ kernels: one pass over memory each way, SIMD through GCC vector extensions, picked at run time
// for AVX-512 / AVX2 / SSE2, parallel over fixed-size chunks with per-chunk partial sums.
#include "oqa/quant/lsq_kernels.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <cstring>
#include <vector>

#include "oqa/quant/parallel.h"
#include "oqa/util/error.h"

// GCC contracts a * b + c into one FMA by default in C++; the composed reference rounds the product and
// the sum separately, so y = v * s + beta must too, to agree bit for bit.
#pragma GCC optimize("fp-contract=off")

namespace oqa::quant::detail {

namespace {

#define OQA_ALWAYS_INLINE inline __attribute__((always_inline))

constexpr int64_t kChunk = 1 << 15;  // elements per parallel work item (128 KiB of x)
constexpr int64_t kBlock = 1024;     // elements summed in float lanes before joining the double sum
// Adding and subtracting 1.5 * 2^23 rounds a float with |t| < 2^22 to an integer under the current
// rounding mode: round half to even by default, which is what torch.round does. Levels are in [-128, 255].
constexpr float kRoundMagic = 12582912.0f;

template <int W>
struct Simd {
  typedef float F __attribute__((vector_size(W * 4)));
};

// Loads and stores through memcpy (unaligned vector moves); no vector is passed by value, so the
// SSE2 default build of this file keeps one ABI.
template <class F>
OQA_ALWAYS_INLINE void load(F& v, const float* p) {
  std::memcpy(&v, p, sizeof(F));
}

template <class F>
OQA_ALWAYS_INLINE void store(float* p, const F& v) {
  std::memcpy(p, &v, sizeof(F));
}

OQA_ALWAYS_INLINE float quotient(float x, float s, float b, bool asym) { return asym ? (x - b) / s : x / s; }

OQA_ALWAYS_INLINE float clamp_round(float t, float qn, float qp) {
  float c = t < qn ? qn : t;
  c = c > qp ? qp : c;
  return (c + kRoundMagic) - kRoundMagic;
}

// ---- forward ----------------------------------------------------------------------------------------

template <int W, bool kAsym>
OQA_ALWAYS_INLINE void forward_span(const float* x, float* y, int64_t n, float s, float b, float qn, float qp) {
  using F = typename Simd<W>::F;
  const F qnv = F{} + qn, qpv = F{} + qp, magic = F{} + kRoundMagic;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    F xv;
    load(xv, x + i);
    F t = kAsym ? (xv - b) / s : xv / s;
    F c = t < qnv ? qnv : t;
    c = c > qpv ? qpv : c;
    F v = (c + magic) - magic;
    store(y + i, kAsym ? v * s + b : v * s);
  }
  for (; i < n; ++i) {
    float v = clamp_round(quotient(x[i], s, b, kAsym), qn, qp);
    y[i] = kAsym ? v * s + b : v * s;
  }
}

// Elements [begin, end) of x, split into spans of one channel each.
template <int W>
OQA_ALWAYS_INLINE void forward_range(const float* x, float* y, int64_t begin, int64_t end, const LsqLayout& l,
                                     const LsqParams& p) {
  for (int64_t i = begin; i < end;) {
    int64_t row = i / l.inner;
    int64_t c = row % l.channels;
    int64_t stop = std::min(end, (row + 1) * l.inner);
    if (p.offset)
      forward_span<W, true>(x + i, y + i, stop - i, p.step[c], p.offset[c], p.qn, p.qp);
    else
      forward_span<W, false>(x + i, y + i, stop - i, p.step[c], 0.0f, p.qn, p.qp);
    i = stop;
  }
}

// ---- backward ---------------------------------------------------------------------------------------

template <int W>
OQA_ALWAYS_INLINE double lane_sum(const typename Simd<W>::F& v) {
  double s = 0.0;
  for (int k = 0; k < W; ++k) s += v[k];
  return s;
}

template <int W, bool kAsym, bool kDx>
OQA_ALWAYS_INLINE void backward_span(const float* x, const float* dy, float* dx, int64_t n, float s, float b,
                                     float qn, float qp, double& sum_s, double& sum_b) {
  using F = typename Simd<W>::F;
  const F zero = F{}, qnv = F{} + qn, qpv = F{} + qp, magic = F{} + kRoundMagic;
  for (int64_t blk = 0; blk < n; blk += kBlock) {
    const int64_t m = std::min(kBlock, n - blk);
    const int64_t vend = blk + (m / W) * W;
    F acc_s = zero, acc_b = zero;
    int64_t i = blk;
    for (; i < vend; i += W) {
      F xv, g;
      load(xv, x + i);
      load(g, dy + i);
      F t = kAsym ? (xv - b) / s : xv / s;
      F c = t < qnv ? qnv : t;
      c = c > qpv ? qpv : c;
      F v = (c + magic) - magic;
      // Inside [qn, qp] exactly when clamping left t unchanged (NaN compares unequal: outside, as in
      // torch's clamp backward). Compares kept inside ?: so that AVX-512 uses mask registers.
      F g_in = c == t ? g : zero;
      if (kDx) store(dx + i, g_in);
      acc_s += g * (v - (c == t ? t : zero));
      if (kAsym) acc_b += g - g_in;
    }
    float tail_s = 0.0f, tail_b = 0.0f;
    for (; i < blk + m; ++i) {
      float t = quotient(x[i], s, b, kAsym);
      bool in = t >= qn && t <= qp;
      float v = clamp_round(t, qn, qp);
      if (kDx) dx[i] = in ? dy[i] : 0.0f;
      tail_s += dy[i] * (v - (in ? t : 0.0f));
      if (kAsym && !in) tail_b += dy[i];
    }
    sum_s += lane_sum<W>(acc_s) + tail_s;
    if (kAsym) sum_b += lane_sum<W>(acc_b) + tail_b;
  }
}

// Elements [begin, end); part_s / part_b get one sum per row touched (rows begin/inner .. (end-1)/inner).
template <int W>
OQA_ALWAYS_INLINE void backward_range(const float* x, const float* dy, float* dx, int64_t begin, int64_t end,
                                      const LsqLayout& l, const LsqParams& p, double* part_s, double* part_b) {
  const int64_t row0 = begin / l.inner;
  for (int64_t i = begin; i < end;) {
    int64_t row = i / l.inner;
    int64_t c = row % l.channels;
    int64_t stop = std::min(end, (row + 1) * l.inner);
    double& ss = part_s[row - row0];
    int64_t n = stop - i;
    float* d = dx ? dx + i : nullptr;
    if (p.offset) {
      double& sb = part_b[row - row0];
      if (dx)
        backward_span<W, true, true>(x + i, dy + i, d, n, p.step[c], p.offset[c], p.qn, p.qp, ss, sb);
      else
        backward_span<W, true, false>(x + i, dy + i, d, n, p.step[c], p.offset[c], p.qn, p.qp, ss, sb);
    } else {
      double unused = 0.0;
      if (dx)
        backward_span<W, false, true>(x + i, dy + i, d, n, p.step[c], 0.0f, p.qn, p.qp, ss, unused);
      else
        backward_span<W, false, false>(x + i, dy + i, d, n, p.step[c], 0.0f, p.qn, p.qp, ss, unused);
    }
    i = stop;
  }
}

// ---- instruction-set variants and run-time choice ---------------------------------------------------

using ForwardFn = void (*)(const float*, float*, int64_t, int64_t, const LsqLayout&, const LsqParams&);
using BackwardFn = void (*)(const float*, const float*, float*, int64_t, int64_t, const LsqLayout&,
                            const LsqParams&, double*, double*);

void forward_sse2(const float* x, float* y, int64_t b, int64_t e, const LsqLayout& l, const LsqParams& p) {
  forward_range<4>(x, y, b, e, l, p);
}
void backward_sse2(const float* x, const float* dy, float* dx, int64_t b, int64_t e, const LsqLayout& l,
                   const LsqParams& p, double* ps, double* pb) {
  backward_range<4>(x, dy, dx, b, e, l, p, ps, pb);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define OQA_HAVE_X86_VARIANTS 1
#define OQA_AVX512_TARGET "avx512f"
__attribute__((target("avx2"))) void forward_avx2(const float* x, float* y, int64_t b, int64_t e,
                                                  const LsqLayout& l, const LsqParams& p) {
  forward_range<8>(x, y, b, e, l, p);
}
__attribute__((target("avx2"))) void backward_avx2(const float* x, const float* dy, float* dx, int64_t b,
                                                   int64_t e, const LsqLayout& l, const LsqParams& p,
                                                   double* ps, double* pb) {
  backward_range<8>(x, dy, dx, b, e, l, p, ps, pb);
}
__attribute__((target(OQA_AVX512_TARGET))) void forward_avx512(const float* x, float* y, int64_t b, int64_t e,
                                                       const LsqLayout& l, const LsqParams& p) {
  forward_range<16>(x, y, b, e, l, p);
}
__attribute__((target(OQA_AVX512_TARGET))) void backward_avx512(const float* x, const float* dy, float* dx, int64_t b,
                                                        int64_t e, const LsqLayout& l, const LsqParams& p,
                                                        double* ps, double* pb) {
  backward_range<16>(x, dy, dx, b, e, l, p, ps, pb);
}
#endif

struct Variant {
  ForwardFn forward;
  BackwardFn backward;
};

Variant variant_for(SimdLevel level) {
#ifdef OQA_HAVE_X86_VARIANTS
  if (level == SimdLevel::kAvx512) return {forward_avx512, backward_avx512};
  if (level == SimdLevel::kAvx2) return {forward_avx2, backward_avx2};
#endif
  (void)level;
  return {forward_sse2, backward_sse2};
}

SimdLevel detect_level() {
#ifdef OQA_HAVE_X86_VARIANTS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return SimdLevel::kAvx512;
  if (__builtin_cpu_supports("avx2")) return SimdLevel::kAvx2;
#endif
  return SimdLevel::kSse2;
}

std::atomic<int>& current_level() {
  static std::atomic<int> level{static_cast<int>(detect_level())};
  return level;
}

Variant variant() { return variant_for(static_cast<SimdLevel>(current_level().load(std::memory_order_relaxed))); }

int64_t chunk_count(int64_t numel) { return (numel + kChunk - 1) / kChunk; }

}  // namespace

const char* to_string(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512: return "avx512";
    case SimdLevel::kAvx2: return "avx2";
    default: return "sse2";
  }
}

SimdLevel best_simd_level() {
  static const SimdLevel best = detect_level();
  return best;
}

SimdLevel simd_level() { return static_cast<SimdLevel>(current_level().load()); }

void set_simd_level(SimdLevel level) {
  if (static_cast<int>(level) > static_cast<int>(best_simd_level()))
    throw util::input_error(std::string("this CPU has no ") + to_string(level) + " (best: " +
                            to_string(best_simd_level()) + ")")
        .field("simd_level")
        .value(to_string(level));
  current_level().store(static_cast<int>(level));
}

void lsq_forward(const float* x, float* y, const LsqLayout& layout, const LsqParams& p) {
  const ForwardFn fn = variant().forward;
  const int64_t n = layout.numel;
  parallel_chunks(chunk_count(n), [&](int64_t k0, int64_t k1) {
    fn(x, y, k0 * kChunk, std::min(n, k1 * kChunk), layout, p);
  });
}

void lsq_backward(const float* x, const float* dy, float* dx, double* dstep, double* doffset,
                  const LsqLayout& layout, const LsqParams& p) {
  const BackwardFn fn = variant().backward;
  const int64_t n = layout.numel, inner = layout.inner;
  const int64_t chunks = chunk_count(n);
  // One partial sum per (chunk, row touched by the chunk); reduced in chunk order below, so the result
  // does not depend on how chunks were spread over threads.
  std::vector<int64_t> first(chunks + 1);
  for (int64_t k = 0; k < chunks; ++k) {
    int64_t b = k * kChunk, e = std::min(n, b + kChunk);
    first[k + 1] = first[k] + (e - 1) / inner - b / inner + 1;
  }
  std::vector<double> part_s(first[chunks], 0.0);
  std::vector<double> part_b(p.offset ? first[chunks] : 0, 0.0);
  parallel_chunks(chunks, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      int64_t b = k * kChunk, e = std::min(n, b + kChunk);
      fn(x, dy, dx, b, e, layout, p, part_s.data() + first[k], p.offset ? part_b.data() + first[k] : nullptr);
    }
  });
  std::fill(dstep, dstep + layout.channels, 0.0);
  if (p.offset) std::fill(doffset, doffset + layout.channels, 0.0);
  for (int64_t k = 0; k < chunks; ++k) {
    int64_t row0 = k * kChunk / inner;
    for (int64_t j = first[k]; j < first[k + 1]; ++j) {
      int64_t c = (row0 + j - first[k]) % layout.channels;
      dstep[c] += part_s[j];
      if (p.offset) doffset[c] += part_b[j];
    }
  }
}

}  // namespace oqa::quant::detail
