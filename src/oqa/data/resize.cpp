// Bilinear uint8 resize: per-axis source indices and weights, then one pass per channel.
#include "oqa/data/resize.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace oqa::data {

namespace {

// Source index pair and weight of the second one for each output coordinate (torch's convention).
struct Tap {
  int64_t i0, i1;
  float w1;
};

std::vector<Tap> taps(int64_t in, int64_t out) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < out; ++o) {
    float src = scale * (static_cast<float>(o) + 0.5f) - 0.5f;
    if (src < 0.f) src = 0.f;
    int64_t i0 = static_cast<int64_t>(src);
    if (i0 > in - 1) i0 = in - 1;
    const int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
    t[static_cast<size_t>(o)] = {i0, i1, src - static_cast<float>(i0)};
  }
  return t;
}

}  // namespace

void resize_bilinear_u8(const uint8_t* src, int64_t channels, int64_t src_h, int64_t src_w, uint8_t* dst,
                        int64_t dst_h, int64_t dst_w) {
  if (src_h == dst_h && src_w == dst_w) {
    std::memcpy(dst, src, static_cast<size_t>(channels * src_h * src_w));
    return;
  }
  const std::vector<Tap> ty = taps(src_h, dst_h), tx = taps(src_w, dst_w);
  for (int64_t c = 0; c < channels; ++c) {
    const uint8_t* plane = src + c * src_h * src_w;
    uint8_t* out = dst + c * dst_h * dst_w;
    for (int64_t y = 0; y < dst_h; ++y) {
      const Tap& a = ty[static_cast<size_t>(y)];
      const uint8_t* r0 = plane + a.i0 * src_w;
      const uint8_t* r1 = plane + a.i1 * src_w;
      const float wy1 = a.w1, wy0 = 1.f - a.w1;
      for (int64_t x = 0; x < dst_w; ++x) {
        const Tap& b = tx[static_cast<size_t>(x)];
        const float wx1 = b.w1, wx0 = 1.f - b.w1;
        const float v = wy0 * (wx0 * r0[b.i0] + wx1 * r0[b.i1]) + wy1 * (wx0 * r1[b.i0] + wx1 * r1[b.i1]);
        const long q = std::lround(v);
        out[y * dst_w + x] = static_cast<uint8_t>(q < 0 ? 0 : (q > 255 ? 255 : q));
      }
    }
  }
}

}  // namespace oqa::data
