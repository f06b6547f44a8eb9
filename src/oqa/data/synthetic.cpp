// Synthetic patterns: one grating template per class (orientation, wavelength, channel tint),
// sampled per image with a seeded shift, contrast and pixel noise.
#include "oqa/data/synthetic.h"

#include <cmath>
#include <random>
#include <vector>

#include "oqa/data/random.h"
#include "oqa/util/error.h"

namespace oqa::data {

namespace {

constexpr int64_t kMaxShift = 2;  // pixels of random translation each way
constexpr double kPi = 3.14159265358979323846;

class SyntheticDataset final : public Dataset {
 public:
  SyntheticDataset(size_t n, ImageShape shape, int64_t num_classes, uint64_t seed)
      : n_(n), shape_(shape), num_classes_(num_classes), seed_(seed) {
    const int64_t th = shape_.height + 2 * kMaxShift, tw = shape_.width + 2 * kMaxShift;
    templates_.resize(static_cast<size_t>(num_classes_ * shape_.channels * th * tw));
    const double size = static_cast<double>(std::max(shape_.height, shape_.width));
    for (int64_t k = 0; k < num_classes_; ++k) {
      // Orientations spread over half a turn; three wavelengths interleaved so neighbours differ twice.
      const double angle = kPi * static_cast<double>(k) / static_cast<double>(num_classes_);
      const double wavelength = size / (2.0 + static_cast<double>(k % 3) * 1.5);
      const double dx = std::cos(angle) * 2.0 * kPi / wavelength, dy = std::sin(angle) * 2.0 * kPi / wavelength;
      const double phase = static_cast<double>(k) * 0.7;
      for (int64_t c = 0; c < shape_.channels; ++c) {
        const double tint = shape_.channels == 1 ? 1.0 : 0.55 + 0.45 * static_cast<double>((k + c) % 3) / 2.0;
        float* t = templates_.data() + ((k * shape_.channels + c) * th) * tw;
        for (int64_t y = 0; y < th; ++y)
          for (int64_t x = 0; x < tw; ++x)
            t[y * tw + x] = static_cast<float>(tint * (0.5 + 0.5 * std::sin(dx * double(x) + dy * double(y) + phase)));
      }
    }
  }

  size_t size() const override { return n_; }
  ImageShape shape() const override { return shape_; }
  int64_t num_classes() const override { return num_classes_; }
  std::string name() const override { return "synthetic"; }

  int64_t label(size_t i) const override {
    check(i);
    return static_cast<int64_t>(mix_seed(seed_, i, 0x1ABE1ULL) % static_cast<uint64_t>(num_classes_));
  }

  void read_image(size_t i, uint8_t* dst) const override {
    const int64_t k = label(i);
    std::mt19937_64 rng(mix_seed(seed_, i, 0x91C5E15ULL));
    const int64_t sy = static_cast<int64_t>(draw_below(rng, 2 * kMaxShift + 1));
    const int64_t sx = static_cast<int64_t>(draw_below(rng, 2 * kMaxShift + 1));
    const float contrast = 150.f + static_cast<float>(draw_below(rng, 81));  // 150..230 grey levels
    const float offset = 10.f + static_cast<float>(draw_below(rng, 21));
    const int64_t th = shape_.height + 2 * kMaxShift, tw = shape_.width + 2 * kMaxShift;
    for (int64_t c = 0; c < shape_.channels; ++c) {
      const float* t = templates_.data() + ((k * shape_.channels + c) * th + sy) * tw + sx;
      uint8_t* out = dst + c * shape_.height * shape_.width;
      for (int64_t y = 0; y < shape_.height; ++y)
        for (int64_t x = 0; x < shape_.width; ++x) {
          const float noise = static_cast<float>(draw_below(rng, 97)) - 48.f;  // uniform -48..48
          const float v = offset + contrast * t[y * tw + x] + noise;
          out[y * shape_.width + x] = static_cast<uint8_t>(v < 0.f ? 0.f : (v > 255.f ? 255.f : v + 0.5f));
        }
    }
  }

 private:
  void check(size_t i) const { OQA_ASSERT(i < n_, "sample " + std::to_string(i) + " out of range in synthetic"); }
  size_t n_;
  ImageShape shape_;
  int64_t num_classes_;
  uint64_t seed_;
  std::vector<float> templates_;  // [class][channel][H + 2 shift][W + 2 shift]
};

}  // namespace

DatasetPtr make_synthetic(size_t n, ImageShape shape, int64_t num_classes, uint64_t seed) {
  if (num_classes < 2 || num_classes > 1000)
    throw util::input_error("synthetic classes must be in 2..1000").field("synthetic_classes").value(std::to_string(num_classes));
  if (shape.channels < 1 || shape.channels > 4 || shape.height < 4 || shape.width < 4 || shape.height > 1024 ||
      shape.width > 1024)
    throw util::input_error("synthetic image shape must be 1..4 channels of 4..1024 pixels a side")
        .field("image_size")
        .value(shape.str());
  const double template_floats = static_cast<double>(num_classes) * static_cast<double>(shape.channels) *
                                 static_cast<double>(shape.height + 4) * static_cast<double>(shape.width + 4);
  if (template_floats > 64e6)
    throw util::input_error("synthetic dataset too large: classes x channels x image size must stay under 64M pixels")
        .field("synthetic_classes")
        .value(std::to_string(num_classes));
  return std::make_shared<SyntheticDataset>(n, shape, num_classes, seed);
}

}  // namespace oqa::data
