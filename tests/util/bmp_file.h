// write_bmp24: a 24-bit BMP written by hand (no image library), which the image reader decodes exactly.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

namespace oqa::test {

// pixel(x, y, c) gives channel c (0 red, 1 green, 2 blue) of the pixel in column x, row y (row 0 on top).
inline void write_bmp24(const std::string& path, int w, int h,
                        const std::function<uint8_t(int, int, int)>& pixel) {
  const int row = (w * 3 + 3) / 4 * 4;  // rows padded to a multiple of 4 bytes
  std::string f = "BM";
  auto u32 = [&](uint32_t v) { f.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { f.append(reinterpret_cast<const char*>(&v), 2); };
  u32(static_cast<uint32_t>(54 + row * h)), u32(0), u32(54);  // file size, reserved, pixel offset
  u32(40), u32(static_cast<uint32_t>(w)), u32(static_cast<uint32_t>(h)), u16(1), u16(24),
      u32(0);  // no compression
  u32(static_cast<uint32_t>(row * h)), u32(2835), u32(2835), u32(0),
      u32(0);                         // image size, resolution, palette
  for (int y = h - 1; y >= 0; --y) {  // bottom-up, BGR
    for (int x = 0; x < w; ++x)
      for (int c = 2; c >= 0; --c) f.push_back(static_cast<char>(pixel(x, y, c)));
    f.append(static_cast<size_t>(row - w * 3), '\0');
  }
  std::ofstream(path, std::ios::binary) << f;
}

}  // namespace oqa::test
