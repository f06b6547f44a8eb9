// Bit packing: integers of a known range stored at b bits each (2..8), as one little-endian bit stream.
#pragma once

#include <cstdint>
#include <vector>

namespace oqa::deploy {

// Bytes needed for n values at `bits` bits: ceil(n * bits / 8).
int64_t packed_bytes(int64_t n, int bits);

// Stores v[i] - lo (which must lie in [0, 2^bits - 1]) at bit offset i * bits, least significant bit first;
// a value may straddle a byte boundary (3, 5, 6, 7 bits). Unused high bits of the last byte are zero.
// Throws oqa::util::Error when bits is outside 2..8 or a value is out of range.
std::vector<uint8_t> pack_levels(const int32_t* v, int64_t n, int bits, int32_t lo);

// Inverse of pack_levels; `bytes` must be packed_bytes(n, bits) (else an error).
void unpack_levels(const uint8_t* data, int64_t bytes, int64_t n, int bits, int32_t lo, int32_t* out);

}  // namespace oqa::deploy
