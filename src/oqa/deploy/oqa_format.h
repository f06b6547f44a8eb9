// The .oqa packed model file: header, JSON metadata, weights packed at their bit-width, CRC-32
// (docs/formats.md).
#pragma once

#include <cstdint>
#include <string>

#include "oqa/deploy/deploy_model.h"

namespace oqa::deploy {

inline constexpr char kOqaMagic[8] = {'O', 'Q', 'A', 'M', 'O', 'D', 'E', 'L'};
// 3: payload zlib-compressed (or stored, as the metadata says); 2: batch norm stored folded. 1 and 2 are
// read.
inline constexpr uint32_t kOqaVersion = 3;

// How the payload (packed weights and float arrays) is stored: deflated by zlib (default: low-bit levels are
// far from uniform, so their packed bytes compress), or as is (the packed bytes can be used in place).
enum class PayloadCompression { kZlib, kNone };

// Serialises a model: quantized weights become their integer levels packed at their bit-width, float
// tensors (biases, batch norm, float-spec weights) stay float32. Throws when a weight is not quantizable.
std::string encode_oqa(const DeployModel& m, PayloadCompression c = PayloadCompression::kZlib);
// Parses and validates bytes read from `path` (named in every error): magic, version (a newer file is
// refused), sizes (truncated / trailing bytes), CRC-32, payload decompression, JSON fields, data ranges and
// layer graph.
DeployModel decode_oqa(const std::string& bytes, const std::string& path);

// encode_oqa + atomic write; read + decode_oqa.
void write_oqa(const DeployModel& m, const std::string& path,
               PayloadCompression c = PayloadCompression::kZlib);
DeployModel read_oqa(const std::string& path);

}  // namespace oqa::deploy
