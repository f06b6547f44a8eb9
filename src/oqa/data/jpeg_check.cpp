// jpeg_defect: walks the JPEG markers (and the entropy-coded data between them, where progressive files put
// more DHT segments), sums each Huffman table's code counts and checks each scan's tables were defined.
#include "oqa/data/jpeg_check.h"

namespace oqa::data {

namespace {

// Huffman tables a DHT segment defines, [class (0 DC, 1 AC)][id 0..3].
using Defined = bool[2][4];

// True when a table of the DHT segment's payload [p, end) counts more than 256 codes; marks each table it
// reads as defined. stb reads a table's 16 counts as zeros past the end of the file and builds the table
// before it notices the end, so a table cut short counts the counts that are there (found by fuzzing, round 3).
bool oversized_table(const uint8_t* p, const uint8_t* end, Defined& defined) {
  while (p < end) {
    if ((p[0] >> 4) <= 1 && (p[0] & 15) <= 3) defined[p[0] >> 4][p[0] & 15] = true;
    size_t codes = 0;
    for (int i = 1; i <= 16 && p + i < end; ++i) codes += p[i];
    if (codes > 256) return true;
    if (static_cast<size_t>(end - p) < 17 + codes) return false;  // cut short within its symbols: stb reports it
    p += 17 + codes;
  }
  return false;
}

// True when the scan of the SOS payload [p, end) decodes with a Huffman table no DHT defined: stb then reads
// its uninitialised table memory (found by fuzzing, round 4). Progressive scans use the DC tables only in a
// first DC scan (Ss = 0, Ah = 0) and the AC tables only in AC scans (Ss > 0); baseline scans use both.
bool undefined_table(const uint8_t* p, const uint8_t* end, const Defined& defined, bool progressive) {
  if (end - p < 1) return false;
  const size_t n = p[0];
  if (static_cast<size_t>(end - p) < 4 + 2 * n) return false;  // cut short: stb reports it
  const uint8_t ss = p[1 + 2 * n], ah = p[3 + 2 * n] >> 4;
  const bool dc = !progressive || (ss == 0 && ah == 0), ac = !progressive || ss > 0;
  for (size_t c = 0; c < n; ++c) {
    const uint8_t td = p[2 + 2 * c] >> 4, ta = p[2 + 2 * c] & 15;
    if (td > 3 || ta > 3) return false;  // stb refuses the scan
    if ((dc && !defined[0][td]) || (ac && !defined[1][ta])) return true;
  }
  return false;
}

}  // namespace

std::string jpeg_defect(const uint8_t* bytes, size_t size) {
  // stb accepts fill bytes (0xFF) before the start-of-image marker (found by fuzzing, round 5).
  size_t i = 0;
  while (i < size && bytes[i] == 0xFF) ++i;
  if (i == 0 || i >= size || bytes[i] != 0xD8) return "";
  ++i;
  Defined defined = {};
  bool progressive = false;
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
    if (m == 0xC2) progressive = true;
    if (m == 0xC4 && oversized_table(bytes + i + 4, bytes + end, defined))
      return "corrupt JPEG: a Huffman table holds more than 256 codes";
    if (m == 0xDA && undefined_table(bytes + i + 4, bytes + end, defined, progressive))
      return "corrupt JPEG: a scan uses a Huffman table that was not defined";
    i += 2 + length;
  }
  return "";
}

}  // namespace oqa::data
