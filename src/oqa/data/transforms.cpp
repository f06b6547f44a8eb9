// Transforms: crop/flip on uint8 CHW images, normalisation tables, batch resize via ATen.
#include "oqa/data/transforms.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "oqa/data/random.h"
#include "oqa/util/error.h"

namespace oqa::data {

bool augments(const TransformOptions& t) { return t.pad_crop > 0 || t.hflip; }

void augment(uint8_t* chw, const ImageShape& s, const TransformOptions& t, std::mt19937_64& rng,
             std::vector<uint8_t>& scratch) {
  const int64_t C = s.channels, H = s.height, W = s.width;
  if (t.pad_crop > 0) {
    const int64_t p = t.pad_crop;
    const int64_t dy = static_cast<int64_t>(draw_below(rng, static_cast<uint64_t>(2 * p + 1))) - p;
    const int64_t dx = static_cast<int64_t>(draw_below(rng, static_cast<uint64_t>(2 * p + 1))) - p;
    if (dy != 0 || dx != 0) {
      scratch.assign(chw, chw + s.numel());
      std::memset(chw, 0, static_cast<size_t>(s.numel()));
      // Output rows y with 0 <= y + dy < H, columns x with 0 <= x + dx < W.
      const int64_t y0 = std::max<int64_t>(0, -dy), y1 = std::min<int64_t>(H, H - dy);
      const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min<int64_t>(W, W - dx);
      if (y0 < y1 && x0 < x1)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t y = y0; y < y1; ++y)
            std::memcpy(chw + (c * H + y) * W + x0, scratch.data() + (c * H + y + dy) * W + x0 + dx,
                        static_cast<size_t>(x1 - x0));
    }
  }
  if (t.hflip && (rng() & 1u)) {
    for (int64_t r = 0; r < C * H; ++r) {
      uint8_t* row = chw + r * W;
      std::reverse(row, row + W);
    }
  }
}

TransformOptions without_augmentation(TransformOptions t) {
  t.pad_crop = 0;
  t.hflip = false;
  return t;
}

void validate(const TransformOptions& t, int64_t channels) {
  if (t.pad_crop < 0)
    throw util::input_error("pad_crop must be >= 0").field("pad_crop").value(std::to_string(t.pad_crop));
  auto check = [&](const std::vector<float>& v, const char* name) {
    if (!v.empty() && v.size() != 1 && static_cast<int64_t>(v.size()) != channels)
      throw util::input_error("expected 1 or " + std::to_string(channels) + " values (one per channel), got " +
                              std::to_string(v.size()))
          .field(name);
  };
  check(t.mean, "mean");
  check(t.std, "std");
  if (t.mean.empty() != t.std.empty())
    throw util::input_error("mean and std must be given together").field(t.mean.empty() ? "mean" : "std");
  for (float v : t.std)
    if (!(v > 0.f)) throw util::input_error("std must be > 0").field("std").value(std::to_string(v));
}

std::vector<float> pixel_lut(const TransformOptions& t, int64_t channels) {
  validate(t, channels);
  std::vector<float> lut(static_cast<size_t>(channels) * 256);
  for (int64_t c = 0; c < channels; ++c) {
    const bool norm = !t.mean.empty();
    const float mean = norm ? t.mean[t.mean.size() == 1 ? 0 : static_cast<size_t>(c)] : 0.f;
    const float sd = norm ? t.std[t.std.size() == 1 ? 0 : static_cast<size_t>(c)] : 1.f;
    for (int v = 0; v < 256; ++v) lut[static_cast<size_t>(c * 256 + v)] = (static_cast<float>(v) / 255.f - mean) / sd;
  }
  return lut;
}

torch::Tensor resize_batch(const torch::Tensor& images, int64_t resolution) {
  if (images.dim() != 4)
    throw util::internal_error("resize_batch expects an NCHW tensor, got " + std::to_string(images.dim()) + " dims");
  if (resolution <= 0)
    throw util::input_error("resolution must be > 0").field("resolution").value(std::to_string(resolution));
  if (images.size(2) == resolution && images.size(3) == resolution) return images;
  return at::upsample_bilinear2d(images, {resolution, resolution}, /*align_corners=*/false);
}

}  // namespace oqa::data
