// Small deterministic random helpers (seed mixing, bounded draws, shuffles) that give the same
// numbers on every platform, unlike std::shuffle and std distributions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace oqa::data {

// SplitMix64 finaliser: a strong 64-bit mix of one word.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A seed derived from several words, order-sensitive.
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return mix64(mix64(a) ^ (b * 0xD6E8FEB86659FD93ULL)); }
inline uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) { return mix_seed(mix_seed(a, b), c); }

// Uniform integer in [0, n) from a 64-bit engine (n > 0); the modulo bias (about n / 2^64) is negligible.
template <class Engine>
uint64_t draw_below(Engine& rng, uint64_t n) {
  return static_cast<uint64_t>(rng()) % n;
}

// Fisher-Yates shuffle with draw_below.
template <class T, class Engine>
void shuffle_in_place(std::vector<T>& v, Engine& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(draw_below(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace oqa::data
