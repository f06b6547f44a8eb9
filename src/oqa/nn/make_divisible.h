// make_divisible: MobileNet's channel rounding (nearest multiple of the divisor, never below 90% of v).
#pragma once

#include <cstdint>

namespace oqa::nn {

// n = max(divisor, floor(v + divisor / 2) rounded down to a multiple of divisor); n + divisor if n < 0.9 v.
inline int64_t make_divisible(double v, int64_t divisor = 8) {
  const int64_t half = divisor / 2;
  int64_t n = (static_cast<int64_t>(v + static_cast<double>(half)) / divisor) * divisor;
  if (n < divisor) n = divisor;
  return static_cast<double>(n) < 0.9 * v ? n + divisor : n;
}

}  // namespace oqa::nn
