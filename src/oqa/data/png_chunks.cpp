// drop_empty_idat_chunks: walks a PNG's chunks (length, type, data, CRC) and erases the empty IDAT ones.
#include "oqa/data/png_chunks.h"

#include <cstdint>
#include <cstring>

namespace oqa::data {

int drop_empty_idat_chunks(std::string& bytes) {
  static const char kSignature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0) return 0;
  int removed = 0;
  size_t i = 8;
  while (bytes.size() - i >= 12) {  // length (4, big-endian), type (4), data, CRC (4)
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + i);
    const uint64_t length = (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | p[3];
    const std::string type = bytes.substr(i + 4, 4);
    if (type == "IDAT" && length == 0) {
      bytes.erase(i, 12);
      ++removed;
      continue;
    }
    if (type == "IEND" || length > bytes.size() - i - 12) break;  // the end, or cut short: stb reports it
    i += 12 + length;
  }
  return removed;
}

}  // namespace oqa::data
