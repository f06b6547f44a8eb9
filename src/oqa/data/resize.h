// Bilinear resize of uint8 CHW images with the sampling of LibTorch's upsample_bilinear2d
// (align_corners=false, no antialiasing), rounded to the nearest integer.
#pragma once

#include <cstdint>

namespace oqa::data {

// Resizes `channels` planes of src_h x src_w (CHW) to dst_h x dst_w; a plain copy at the same size.
void resize_bilinear_u8(const uint8_t* src, int64_t channels, int64_t src_h, int64_t src_w, uint8_t* dst,
                        int64_t dst_h, int64_t dst_w);

}  // namespace oqa::data
