// Stable 64-bit FNV-1a hash for configs, subnets and file checksums.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace oqa::util {

uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 1469598103934665603ULL);

// 16 lowercase hex digits.
std::string hex64(uint64_t v);

}  // namespace oqa::util
