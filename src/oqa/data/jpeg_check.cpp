// jpeg_defect: walks the JPEG markers (and the entropy-coded data between them, where progressive files put
// more DHT segments) and sums each Huffman table's code counts.
#include "oqa/data/jpeg_check.h"

namespace oqa::data {

namespace {

// True when a table of the DHT segment's payload [p, end) counts more than 256 codes. stb reads a table's 16
// counts as zeros past the end of the file and builds the table before it notices the end, so a table cut
// short counts the counts that are there (found by fuzzing, round 3).
bool oversized_table(const uint8_t* p, const uint8_t* end) {
  while (p < end) {
    size_t codes = 0;
    for (int i = 1; i <= 16 && p + i < end; ++i) codes += p[i];
    if (codes > 256) return true;
    if (static_cast<size_t>(end - p) < 17 + codes) return false;  // cut short within its symbols: stb reports it
    p += 17 + codes;
  }
  return false;
}

}  // namespace

std::string jpeg_defect(const uint8_t* bytes, size_t size) {
  if (size < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return "";
  size_t i = 2;
  while (i + 4 <= size) {
    if (bytes[i] != 0xFF) {  // entropy-coded data
      ++i;
      continue;
    }
    const uint8_t m = bytes[i + 1];
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // stuffed 0xFF, TEM, restart: no length
      i += 2;
      continue;
    }
    if (m == 0xD9) return "";  // end of image
    const size_t length = (size_t{bytes[i + 2]} << 8) | bytes[i + 3];
    if (length < 2) return "";
    const size_t end = i + 2 + length < size ? i + 2 + length : size;
    if (m == 0xC4 && oversized_table(bytes + i + 4, bytes + end))
      return "corrupt JPEG: a Huffman table holds more than 256 codes";
    i += 2 + length;
  }
  return "";
}

}  // namespace oqa::data
