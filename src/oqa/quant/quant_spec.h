// QuantSpec: how one tensor is fake-quantized (bit-width, sign, granularity, symmetry), its levels and key.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace oqa::quant {

// One step size for the whole tensor, or one per channel along QuantSpec::axis.
enum class Granularity { kPerTensor, kPerChannel };

// The form of a quantizer at one bit-width. bits == 0 means "float": no quantization at all.
struct QuantSpec {
  int bits = 8;                                         // 2..8, or 0 for float
  bool is_signed = true;                                // levels [-2^(b-1), 2^(b-1)-1], else [0, 2^b-1]
  Granularity granularity = Granularity::kPerTensor;
  int64_t axis = 0;                                     // channel axis for kPerChannel (>= 0)
  bool symmetric = true;                                // false: learned offset beta (LSQ+)

  static QuantSpec float_spec() { return QuantSpec{0}; }
  bool is_float() const { return bits == 0; }
  bool per_channel() const { return granularity == Granularity::kPerChannel; }

  int64_t qn() const;  // lowest integer level
  int64_t qp() const;  // highest integer level

  // Throws oqa::util::Error naming the field when the spec is not usable (bits outside {0, 2..8}, axis < 0).
  void validate() const;

  // Short stable name, e.g. "b4_s_pc_sym", "b8_u_pt_asym", "b4_s_pc1_sym" (axis 1), "float".
  // Used to name step-size table entries and checkpoint keys.
  std::string key() const;
  // key() without the bit-width ("s_pc_sym"): entries of the same form at different bit-widths.
  std::string form_key() const;
  // Inverse of key(); throws oqa::util::Error on a malformed key.
  static QuantSpec from_key(const std::string& key);

  QuantSpec with_bits(int b) const;

  bool operator==(const QuantSpec& o) const;
  bool operator!=(const QuantSpec& o) const { return !(*this == o); }
};

std::string to_string(Granularity g);  // "per_tensor" / "per_channel"

// JSON: {"bits": 4, "signed": true, "granularity": "per_channel", "axis": 0, "symmetric": true}.
// Missing fields keep their defaults; unknown fields and bad values are errors naming the field.
void to_json(nlohmann::json& j, const QuantSpec& spec);
void from_json(const nlohmann::json& j, QuantSpec& spec);

}  // namespace oqa::quant
