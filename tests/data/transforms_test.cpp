// Transform tests: crop and flip on hand-made images against hand-computed results, the
// normalisation table, and resize_batch against ATen's bilinear upsampling.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

#include "oqa/data/random.h"
#include "oqa/data/transforms.h"
#include "oqa/util/error.h"

namespace oqa::data {
namespace {

// A seed whose first two crop draws give offsets (dy, dx) for padding p (and, if asked, whose
// following flip draw gives `flip`).
uint64_t seed_for(int64_t p, int64_t dy, int64_t dx, int flip = -1) {
  for (uint64_t s = 0; s < 100000; ++s) {
    std::mt19937_64 rng(s);
    const int64_t y = static_cast<int64_t>(draw_below(rng, static_cast<uint64_t>(2 * p + 1))) - p;
    const int64_t x = static_cast<int64_t>(draw_below(rng, static_cast<uint64_t>(2 * p + 1))) - p;
    const int f = static_cast<int>(rng() & 1u);
    if (y == dy && x == dx && (flip < 0 || f == flip)) return s;
  }
  ADD_FAILURE() << "no seed found";
  return 0;
}

uint64_t seed_for_flip(int flip) {
  for (uint64_t s = 0;; ++s) {
    std::mt19937_64 rng(s);
    if (static_cast<int>(rng() & 1u) == flip) return s;
  }
}

TEST(Transforms, FlipMirrorsEveryRow) {
  TransformOptions t;
  t.hflip = true;
  const ImageShape s{2, 2, 3};
  std::vector<uint8_t> img = {1, 2, 3, 4, 5, 6, /* channel 1 */ 7, 8, 9, 10, 11, 12}, scratch;
  std::mt19937_64 flip(seed_for_flip(1));
  augment(img.data(), s, t, flip, scratch);
  EXPECT_EQ(img, (std::vector<uint8_t>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}));
  std::mt19937_64 keep(seed_for_flip(0));
  augment(img.data(), s, t, keep, scratch);
  EXPECT_EQ(img, (std::vector<uint8_t>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}));
}

TEST(Transforms, PadCropShiftsWithZeros) {
  TransformOptions t;
  t.pad_crop = 1;
  const ImageShape s{1, 3, 3};
  const std::vector<uint8_t> src = {1, 2, 3,  //
                                    4, 5, 6,  //
                                    7, 8, 9};
  std::vector<uint8_t> scratch;
  // dy = +1, dx = -1: out(y, x) = in(y + 1, x - 1).
  std::vector<uint8_t> img = src;
  std::mt19937_64 a(seed_for(1, 1, -1));
  augment(img.data(), s, t, a, scratch);
  EXPECT_EQ(img, (std::vector<uint8_t>{0, 4, 5,  //
                                       0, 7, 8,  //
                                       0, 0, 0}));
  // dy = -1, dx = 0.
  img = src;
  std::mt19937_64 b(seed_for(1, -1, 0));
  augment(img.data(), s, t, b, scratch);
  EXPECT_EQ(img, (std::vector<uint8_t>{0, 0, 0,  //
                                       1, 2, 3,  //
                                       4, 5, 6}));
  // No shift: unchanged.
  img = src;
  std::mt19937_64 c(seed_for(1, 0, 0));
  augment(img.data(), s, t, c, scratch);
  EXPECT_EQ(img, src);
}

TEST(Transforms, CropThenFlipOnEveryChannel) {
  TransformOptions t;
  t.pad_crop = 2;
  t.hflip = true;
  const ImageShape s{2, 2, 4};
  std::vector<uint8_t> img = {1, 2, 3, 4, 5, 6, 7, 8, /* channel 1 */ 11, 12, 13, 14, 15, 16, 17, 18}, scratch;
  // dy = 0, dx = +2: rows become (3, 4, 0, 0); then flipped: (0, 0, 4, 3).
  std::mt19937_64 rng(seed_for(2, 0, 2, 1));
  augment(img.data(), s, t, rng, scratch);
  EXPECT_EQ(img, (std::vector<uint8_t>{0, 0, 4, 3, 0, 0, 8, 7, 0, 0, 14, 13, 0, 0, 18, 17}));
}

TEST(Transforms, CropDrawsCoverAllOffsets) {
  TransformOptions t;
  t.pad_crop = 1;
  const ImageShape s{1, 1, 3};
  std::vector<uint8_t> scratch;
  std::set<std::vector<uint8_t>> seen;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> img = {1, 2, 3};
    augment(img.data(), s, t, rng, scratch);
    seen.insert(img);
  }
  // dx in {-1, 0, 1}, dy in {-1, 0, 1} (dy != 0 blanks the single row).
  EXPECT_EQ(seen, (std::set<std::vector<uint8_t>>{{0, 1, 2}, {1, 2, 3}, {2, 3, 0}, {0, 0, 0}}));
}

TEST(Transforms, PixelLutNormalises) {
  TransformOptions t;
  std::vector<float> lut = pixel_lut(t, 2);
  EXPECT_FLOAT_EQ(lut[255], 1.f);
  EXPECT_FLOAT_EQ(lut[256 + 51], 0.2f);
  t.mean = {0.5f, 0.25f};
  t.std = {0.5f, 0.25f};
  lut = pixel_lut(t, 2);
  EXPECT_FLOAT_EQ(lut[0], -1.f);
  EXPECT_FLOAT_EQ(lut[255], 1.f);
  EXPECT_FLOAT_EQ(lut[256 + 0], -1.f);
  EXPECT_FLOAT_EQ(lut[256 + 255], 3.f);
  t.mean = {0.5f};  // one value for every channel
  t.std = {0.5f};
  EXPECT_FLOAT_EQ(pixel_lut(t, 3)[2 * 256 + 255], 1.f);
  t.mean = {0.5f, 0.5f};
  EXPECT_THROW(pixel_lut(t, 3), util::Error);
}

TEST(Transforms, ResizeBatchIdentityAtSameSize) {
  at::Tensor x = at::rand({2, 3, 16, 16});
  at::Tensor y = resize_batch(x, 16);
  EXPECT_TRUE(y.is_same(x));
  EXPECT_THROW(resize_batch(x, 0), util::Error);
  EXPECT_THROW(resize_batch(at::rand({3, 16, 16}), 8), util::Error);
}

TEST(Transforms, ResizeBatchMatchesUpsampleBilinear) {
  at::Tensor x = at::rand({3, 2, 28, 28});
  for (int64_t r : {32, 20, 7}) {
    at::Tensor y = resize_batch(x, r);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 2, r, r}));
    EXPECT_TRUE(at::allclose(y, at::upsample_bilinear2d(x, {r, r}, false)));
  }
  // Non-square input goes square.
  at::Tensor z = at::rand({1, 1, 10, 14});
  EXPECT_EQ(resize_batch(z, 10).sizes(), (std::vector<int64_t>{1, 1, 10, 10}));
}

TEST(Transforms, WithoutAugmentationLeavesImagesAsTheyAreAndKeepsNormalisation) {
  TransformOptions t;
  t.pad_crop = 3;
  t.hflip = true;
  t.mean = {0.5f};
  t.std = {0.25f};
  const TransformOptions o = without_augmentation(t);
  EXPECT_FALSE(augments(o));
  EXPECT_EQ(o.mean, t.mean);
  EXPECT_EQ(o.std, t.std);
  const ImageShape s{1, 4, 4};
  std::vector<uint8_t> img(16), scratch;
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i + 1);
  std::vector<uint8_t> before = img;
  std::mt19937_64 rng(7);
  augment(img.data(), s, o, rng, scratch);
  EXPECT_EQ(img, before);
}

}  // namespace
}  // namespace oqa::data
