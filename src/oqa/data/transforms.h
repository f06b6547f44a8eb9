// Transforms: per-sample uint8 augmentation (random crop with padding, horizontal flip), the
// uint8 -> normalised float conversion the loader uses, and batch-level bilinear resizing.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "oqa/data/dataset.h"

namespace oqa::data {

struct TransformOptions {
  int64_t pad_crop = 0;          // random crop with this zero padding on each side (0 = none)
  bool hflip = false;            // random horizontal flip with p = 0.5
  std::vector<float> mean, std;  // per channel, on [0,1] pixel values; empty = no normalisation
};

// True when augment() changes anything (pad_crop > 0 or hflip).
bool augments(const TransformOptions& t);

// The same options with augmentation off (no crop, no flip), normalisation kept: for evaluation and
// validation batches.
TransformOptions without_augmentation(TransformOptions t);

// Per-sample augmentation on a uint8 CHW image in place, random draws from `rng` (deterministic
// given its state). Draw order: crop offset y, crop offset x (only when pad_crop > 0; each
// uniform in [0, 2*pad_crop]), then the flip coin (only when hflip; flip when the draw is odd).
// The crop at offset (oy, ox) of the zero-padded image: out(y, x) = in(y + oy - pad, x + ox - pad),
// 0 outside. The flip applies after the crop. `scratch` is reused between calls.
void augment(uint8_t* chw, const ImageShape& s, const TransformOptions& t, std::mt19937_64& rng,
             std::vector<uint8_t>& scratch);

// Checks mean/std against the channel count (empty, one value for all channels, or one per
// channel; std > 0) and pad_crop >= 0; an input error names the field.
void validate(const TransformOptions& t, int64_t channels);

// A 256-entry table per channel mapping a pixel byte to its float value: p / 255, then
// (v - mean) / std when normalising. Layout [channel][256].
std::vector<float> pixel_lut(const TransformOptions& t, int64_t channels);

// Batch-level resize of a float NCHW tensor to resolution r x r (bilinear, align_corners=false);
// identity (the same tensor) when r equals the current height and width.
torch::Tensor resize_batch(const torch::Tensor& images, int64_t resolution);

}  // namespace oqa::data
