// jpeg_defect: finds the JPEG defects the bundled stb_image (Debian's 2022-09 snapshot) turns into undefined
// behaviour (found by fuzzing): a Huffman table of more than 256 codes (a write past the table), a scan that
// uses a Huffman table no DHT segment defined (reads of uninitialised memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace oqa::data {

// "" when `bytes` is not a JPEG or has no such table (stb then decodes or refuses it), else the reason.
std::string jpeg_defect(const uint8_t* bytes, size_t size);

}  // namespace oqa::data
