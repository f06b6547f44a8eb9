// Bit packing of integer levels at 2..8 bits per value, least significant bit first.
#include "oqa/deploy/bit_pack.h"

#include <string>

#include "oqa/util/error.h"

namespace oqa::deploy {
namespace {

void check_bits(int bits) {
  if (bits < 2 || bits > 8)
    throw util::input_error("bit-width must be 2..8").field("bits").value(std::to_string(bits));
}

}  // namespace

int64_t packed_bytes(int64_t n, int bits) {
  return (n * bits + 7) / 8;
}

std::vector<uint8_t> pack_levels(const int32_t* v, int64_t n, int bits, int32_t lo) {
  check_bits(bits);
  const uint32_t top = (1u << bits) - 1;
  std::vector<uint8_t> out(static_cast<size_t>(packed_bytes(n, bits)), 0);
  uint64_t bit = 0;
  for (int64_t i = 0; i < n; ++i, bit += static_cast<uint64_t>(bits)) {
    const int64_t u = static_cast<int64_t>(v[i]) - lo;
    if (u < 0 || u > top)
      throw util::input_error("level outside the " + std::to_string(bits) + "-bit range starting at " +
                              std::to_string(lo))
          .field("levels[" + std::to_string(i) + "]")
          .value(std::to_string(v[i]));
    // Up to 8 bits starting anywhere in a byte touch at most two bytes.
    const uint32_t shifted = static_cast<uint32_t>(u) << (bit % 8);
    out[bit / 8] |= static_cast<uint8_t>(shifted & 0xffu);
    if (shifted > 0xffu) out[bit / 8 + 1] |= static_cast<uint8_t>(shifted >> 8);
  }
  return out;
}

void unpack_levels(const uint8_t* data, int64_t bytes, int64_t n, int bits, int32_t lo, int32_t* out) {
  check_bits(bits);
  if (bytes != packed_bytes(n, bits))
    throw util::input_error("packed data has " + std::to_string(bytes) + " bytes where " + std::to_string(n) +
                            " values at " + std::to_string(bits) + " bits need " +
                            std::to_string(packed_bytes(n, bits)));
  const uint32_t mask = (1u << bits) - 1;
  uint64_t bit = 0;
  for (int64_t i = 0; i < n; ++i, bit += static_cast<uint64_t>(bits)) {
    const uint64_t byte = bit / 8;
    uint32_t word = data[byte];
    if (byte + 1 < static_cast<uint64_t>(bytes)) word |= static_cast<uint32_t>(data[byte + 1]) << 8;
    out[i] = static_cast<int32_t>((word >> (bit % 8)) & mask) + lo;
  }
}

}  // namespace oqa::deploy
