// jpeg_defect: finds the one JPEG defect the bundled stb_image (Debian's 2022-09 snapshot) turns into a write
// past its Huffman table: a DHT segment whose code counts add up to more than 256 (found by fuzzing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace oqa::data {

// "" when `bytes` is not a JPEG or has no such table (stb then decodes or refuses it), else the reason.
std::string jpeg_defect(const uint8_t* bytes, size_t size);

}  // namespace oqa::data
