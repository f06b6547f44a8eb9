// Integer runtime GEMM benchmark: each variant this CPU has (generic, AVX2, AVX-512 VNNI) on the same shapes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "oqa/deploy/int_kernels.h"

namespace {

using oqa::deploy::detail::GemmVariant;

// m = output pixels of a batch, k = k * k * C_in of a 1x1 or 3x3 conv, n = C_out: shapes of the quickstart's
// pointwise convs at batch 64 (14 x 14 and 7 x 7 maps) and a 3 x 3 stem-like one.
struct Shape {
  int64_t m, k, n;
};
const Shape kShapes[] = {{64 * 196, 24, 96}, {64 * 49, 192, 48}, {64 * 196, 144, 16}};

void BM_IntGemm(benchmark::State& state) {
  const auto variant = static_cast<GemmVariant>(state.range(0));
  const Shape s = kShapes[state.range(1)];
  if (!oqa::deploy::detail::gemm_variant_available(variant)) {
    state.SkipWithError("variant not supported by this CPU");
    return;
  }
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> d(-2, 1);
  const int64_t lda = 2 * ((s.k + 1) / 2);
  std::vector<int16_t> a(static_cast<size_t>(s.m * lda), 0);
  for (auto& x : a) x = static_cast<int16_t>(d(rng) + 2);  // unsigned 2-bit activations
  std::vector<int32_t> w(static_cast<size_t>(s.n * s.k));
  for (auto& x : w) x = d(rng);
  const auto b = oqa::deploy::detail::pack_b(w.data(), s.n, s.k);
  std::vector<int32_t> c(static_cast<size_t>(s.m * s.n));
  for (auto _ : state) {
    oqa::deploy::detail::gemm_s16(a.data(), s.m, lda, b, c.data(), s.n, variant);
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(state.iterations() * s.m * s.n * s.k);  // multiply-adds
  state.SetLabel(std::string(oqa::deploy::detail::to_string(variant)) + " m" + std::to_string(s.m) + " k" +
                 std::to_string(s.k) + " n" + std::to_string(s.n));
}
BENCHMARK(BM_IntGemm)->ArgsProduct({{0, 1, 2}, {0, 1, 2}})->Unit(benchmark::kMicrosecond);

}  // namespace
