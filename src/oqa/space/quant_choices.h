// QuantChoices and Precision: what a space lets a layer's quantization be, and how a layer's LayerQuant
// becomes the QuantSpecs its weight and input quantizers use.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oqa/nn/layer_quantizer.h"
#include "oqa/space/subnet.h"
#include "oqa/util/config.h"

namespace oqa::space {

// The per-layer choices of searched layers (config section "quant"). The first granularity / symmetry
// listed is the default form ("w4a4" shortcuts use it). allow_float: bits 0 (float) validates everywhere
// (float supernet training) but is never sampled.
struct QuantChoices {
  std::vector<int> weight_bits{4};
  std::vector<int> act_bits{4};
  std::vector<quant::Granularity> weight_granularity{quant::Granularity::kPerTensor};
  std::vector<bool> weight_symmetric{true};
  std::vector<bool> act_symmetric{true};
  bool allow_float = true;

  // Bits with the default forms.
  LayerQuant uniform(int weight_bits, int act_bits) const;
  // Distinct quantizations of one layer (the product of the list sizes).
  double combinations() const;
  nlohmann::json to_json() const;
};

// Reads "weight_bits", "act_bits" (lists of 2..8), "weight_granularity" (list of "per_tensor" /
// "per_channel"), "weight_symmetric", "act_symmetric" (lists of booleans) and "allow_float".
QuantChoices read_quant_choices(util::ConfigNode node);

// A layer group's precision: float, fixed bits ("w8a8", default forms) or searched (per-subnet choice).
struct Precision {
  enum class Kind { kFloat, kFixed, kSearched };
  Kind kind = Kind::kSearched;
  int weight_bits = 0, act_bits = 0;  // kFixed

  static Precision parse(const std::string& text, const util::ConfigNode& node, const std::string& key);
  std::string to_string() const;  // "float" | "searched" | "w8a8"
};
// Reads one precision key of a ConfigNode ("float", "searched" or "w<b>a<b>" with b in 2..8).
Precision read_precision(util::ConfigNode& node, const std::string& key, const std::string& fallback);

// Parses "w<b>a<b>" (b in 2..8) into bits; false when text has another form.
bool parse_wa(const std::string& text, int& weight_bits, int& act_bits);

// The weight spec (signed, per-tensor or per-channel along axis 0, symmetric or not) and the input spec
// (per-tensor; signed when symmetric and the input can be negative, else unsigned; asymmetric = unsigned grid
// with a learned offset). Bits 0 gives a float spec.
nn::LayerQuantSpecs resolve_specs(const LayerQuant& q, bool input_signed);

}  // namespace oqa::space
