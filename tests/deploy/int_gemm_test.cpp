// Every GEMM variant of the integer runtime against a plain triple loop, at edge sizes and extreme values.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "oqa/deploy/int_kernels.h"

namespace oqa::deploy::detail {
namespace {

struct Case {
  int64_t m, n, k;
};

// Random int16 operands in [lo, hi]; a has rows of lda = 2 * ceil(k / 2) with a zero tail.
void check(const Case& t, int lo, int hi, GemmVariant v, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  const int64_t lda = 2 * ((t.k + 1) / 2);
  std::vector<int16_t> a(static_cast<size_t>(t.m * lda), 0);
  std::vector<int32_t> w(static_cast<size_t>(t.n * t.k));
  for (int64_t i = 0; i < t.m; ++i)
    for (int64_t j = 0; j < t.k; ++j) a[static_cast<size_t>(i * lda + j)] = static_cast<int16_t>(d(rng));
  for (auto& x : w) x = d(rng);
  const PackedB b = pack_b(w.data(), t.n, t.k);
  const int64_t ldc = t.n + 3;  // a wider output row: columns past n must stay untouched
  std::vector<int32_t> c(static_cast<size_t>(t.m * ldc), -7);
  gemm_s16(a.data(), t.m, lda, b, c.data(), ldc, v);
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < t.n; ++j) {
      int64_t want = 0;
      for (int64_t kk = 0; kk < t.k; ++kk)
        want += int64_t{a[static_cast<size_t>(i * lda + kk)]} * w[static_cast<size_t>(j * t.k + kk)];
      ASSERT_EQ(c[static_cast<size_t>(i * ldc + j)], static_cast<int32_t>(want))
          << to_string(v) << " m=" << t.m << " n=" << t.n << " k=" << t.k << " at " << i << "," << j;
    }
    for (int64_t j = t.n; j < ldc; ++j) ASSERT_EQ(c[static_cast<size_t>(i * ldc + j)], -7) << to_string(v);
  }
}

TEST(IntGemm, EveryAvailableVariantEqualsTheTripleLoop) {
  const Case cases[] = {{1, 1, 1},    {3, 5, 7},     {8, 16, 2}, {9, 17, 33},
                        {13, 31, 64}, {64, 48, 147}, {7, 100, 9}};
  int ran = 0;
  for (GemmVariant v : {GemmVariant::kGeneric, GemmVariant::kAvx2, GemmVariant::kAvx512Vnni}) {
    if (!gemm_variant_available(v)) continue;
    ++ran;
    uint32_t seed = 1;
    for (const Case& t : cases) {
      check(t, -8, 7, v, seed++);      // 4-bit weights and activations
      check(t, -128, 127, v, seed++);  // 8-bit
      check(t, -2, 1, v, seed++);      // 2-bit
    }
  }
  EXPECT_GE(ran, 1);
  EXPECT_TRUE(gemm_variant_available(best_gemm_variant()));
  EXPECT_EQ(std::string(gemm_variant()), to_string(best_gemm_variant()));
}

}  // namespace
}  // namespace oqa::deploy::detail
