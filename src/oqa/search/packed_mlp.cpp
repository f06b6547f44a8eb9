// PackedMlp: weight packing, and the AVX512-BF16 register-tiled forward over blocks of rows.
#include "oqa/search/packed_mlp.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include <ATen/Parallel.h>

#include "oqa/util/error.h"

#if defined(__x86_64__) && defined(__GNUC__) && (__GNUC__ >= 10 || defined(__clang__))
#define OQA_PACKED_MLP 1
#include <immintrin.h>
#endif

namespace oqa::search {
namespace {

constexpr int64_t kLanes = 16;          // float32 lanes of a zmm register: output columns per vector
constexpr int kTileRows = 6;            // rows of a register tile
constexpr int kTileVectors = 4;         // column vectors of a register tile (6 x 4 accumulators)
constexpr int64_t kBlockRows = 48;      // rows run through every layer together (activations stay in cache)
constexpr int64_t kParallelRows = 256;  // smaller batches run on one thread

int64_t round_up(int64_t v, int64_t m) {
  return (v + m - 1) / m * m;
}

std::vector<uint16_t> bf16_bits(const torch::Tensor& t) {
  const torch::Tensor b = t.detach().to(torch::kFloat).to(torch::kBFloat16).contiguous();
  std::vector<uint16_t> out(static_cast<size_t>(b.numel()));
  std::memcpy(out.data(), b.data_ptr<at::BFloat16>(), out.size() * sizeof(uint16_t));
  return out;
}

float widen(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

#ifdef OQA_PACKED_MLP
#define OQA_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// One register tile: rows [0, R) x columns [0, 16 V) of a layer's output, starting at a (the tile's first
// input row, lda bfloat16 apart) and w (the packed weights at the tile's first column). Hidden layers store
// ReLU'd bfloat16 (ldo apart); the last layer stores float32.
template <int R, int V, bool kLast>
OQA_BF16_TARGET void tile(const uint16_t* a, int64_t lda, const uint16_t* w, int64_t n, int64_t pairs,
                          const float* bias, void* out, int64_t ldo) {
  __m512 acc[R][V];
  for (int v = 0; v < V; ++v) {
    const __m512 b = _mm512_loadu_ps(bias + v * kLanes);
    for (int r = 0; r < R; ++r) acc[r][v] = b;
  }
  for (int64_t p = 0; p < pairs; ++p) {
    __m512bh wv[V];
    for (int v = 0; v < V; ++v) wv[v] = (__m512bh)_mm512_loadu_si512(w + (p * n + v * kLanes) * 2);
    for (int r = 0; r < R; ++r) {
      int32_t pair;
      std::memcpy(&pair, a + r * lda + 2 * p, sizeof pair);
      const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, wv[v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      if (kLast) {
        _mm512_storeu_ps(static_cast<float*>(out) + r * ldo + v * kLanes, acc[r][v]);
      } else {
        const __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_max_ps(0xFFFF, acc[r][v], _mm512_setzero_ps()));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<uint16_t*>(out) + r * ldo + v * kLanes),
                            (__m256i)h);
      }
    }
}

using TileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, int64_t, int64_t, const float*, void*,
                        int64_t);

template <bool kLast, int R, int... V>
constexpr std::array<TileFn, sizeof...(V)> row_of(std::integer_sequence<int, V...>) {
  return {&tile<R, V + 1, kLast>...};
}
template <bool kLast, int... R>
constexpr std::array<std::array<TileFn, kTileVectors>, sizeof...(R)> table_of(
    std::integer_sequence<int, R...>) {
  return {row_of<kLast, R + 1>(std::make_integer_sequence<int, kTileVectors>{})...};
}
// kTiles[last][rows - 1][vectors - 1]
const std::array<std::array<std::array<TileFn, kTileVectors>, kTileRows>, 2> kTiles = {
    table_of<false>(std::make_integer_sequence<int, kTileRows>{}),
    table_of<true>(std::make_integer_sequence<int, kTileRows>{})};

// float32 rows -> bfloat16 rows of k values (round to nearest even; zeros past `in`).
OQA_BF16_TARGET void to_bf16(const float* x, int64_t rows, int64_t in, int64_t k, uint16_t* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = x + r * in;
    uint16_t* dst = out + r * k;
    int64_t c = 0;
    for (; c + kLanes <= in; c += kLanes)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + c),
                          (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + c)));
    if (c < in) {
      const __mmask16 m = static_cast<__mmask16>((1u << (in - c)) - 1);
      _mm256_mask_storeu_epi16(dst + c, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + c)));
    }
    std::fill(dst + in, dst + k, uint16_t{0});
  }
}

// Rows [0, rows) through every layer; a and b are scratch of rows x the widest layer, last of rows x the
// last layer's n.
void run_block(const std::vector<PackedMlp::Layer>& layers, const float* x, int64_t rows, float* y,
               uint16_t* a, uint16_t* b, float* last) {
  to_bf16(x, rows, layers.front().in, layers.front().k, a);
  for (size_t l = 0; l < layers.size(); ++l) {
    const PackedMlp::Layer& L = layers[l];
    const bool is_last = l + 1 == layers.size();
    for (int64_t c = 0; c < L.n; c += kTileVectors * kLanes) {
      const int64_t vectors = std::min<int64_t>(kTileVectors, (L.n - c) / kLanes);
      for (int64_t r = 0; r < rows; r += kTileRows) {
        const int64_t tile_rows = std::min<int64_t>(kTileRows, rows - r);
        void* dst = is_last ? static_cast<void*>(last + r * L.n + c) : static_cast<void*>(b + r * L.n + c);
        kTiles[is_last][static_cast<size_t>(tile_rows - 1)][static_cast<size_t>(vectors - 1)](
            a + r * L.k, L.k, L.w.data() + c * 2, L.n, L.k / 2, L.bias.data() + c, dst, L.n);
      }
    }
    std::swap(a, b);
  }
  const PackedMlp::Layer& L = layers.back();
  for (int64_t r = 0; r < rows; ++r) std::copy(last + r * L.n, last + r * L.n + L.out, y + r * L.out);
}
#endif

}  // namespace

bool PackedMlp::available() {
#ifdef OQA_PACKED_MLP
  return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

PackedMlp::PackedMlp(const std::vector<torch::Tensor>& weights, const std::vector<torch::Tensor>& biases) {
  if (!available()) throw util::internal_error("PackedMlp needs an x86-64 CPU with AVX512-BF16");
  OQA_ASSERT(!weights.empty() && weights.size() == biases.size(), "PackedMlp: one bias per weight");
  for (size_t i = 0; i < weights.size(); ++i) {
    Layer L;
    L.out = weights[i].size(0);
    L.in = weights[i].size(1);
    OQA_ASSERT(biases[i].numel() == L.out, "PackedMlp: bias size");
    OQA_ASSERT(i == 0 || L.in == layers_.back().out, "PackedMlp: layer widths do not chain");
    L.k = i == 0 ? round_up(L.in, 2) : layers_.back().n;
    L.n = round_up(L.out, kLanes);
    const std::vector<uint16_t> w = bf16_bits(weights[i]), bias = bf16_bits(biases[i]);
    L.w.assign(static_cast<size_t>(L.k * L.n), 0);
    for (int64_t o = 0; o < L.out; ++o)
      for (int64_t j = 0; j < L.in; ++j)
        L.w[static_cast<size_t>(((j / 2) * L.n + o) * 2 + j % 2)] = w[static_cast<size_t>(o * L.in + j)];
    L.bias.assign(static_cast<size_t>(L.n), 0.0f);
    for (int64_t o = 0; o < L.out; ++o) L.bias[static_cast<size_t>(o)] = widen(bias[static_cast<size_t>(o)]);
    layers_.push_back(std::move(L));
  }
}

void PackedMlp::forward(const float* x, int64_t rows, float* y) const {
#ifdef OQA_PACKED_MLP
  int64_t widest = 0;
  for (const Layer& L : layers_) widest = std::max({widest, L.k, L.n});
  const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
  // Batches under kParallelRows run on the calling thread: forking for the search's ~50 new networks a
  // generation costs more than it saves, and the workers' spinning afterwards slows the search's own loop.
  at::parallel_for(0, blocks, rows < kParallelRows ? blocks : 1, [&](int64_t b0, int64_t b1) {
    std::vector<uint16_t> a(static_cast<size_t>(kBlockRows * widest)), b(a.size());
    std::vector<float> last(static_cast<size_t>(kBlockRows * layers_.back().n));
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t r0 = blk * kBlockRows, n = std::min(kBlockRows, rows - r0);
      run_block(layers_, x + r0 * inputs(), n, y + r0 * outputs(), a.data(), b.data(), last.data());
    }
  });
#else
  (void)x, (void)rows, (void)y;
  throw util::internal_error("PackedMlp is not compiled for this CPU");
#endif
}

}  // namespace oqa::search
