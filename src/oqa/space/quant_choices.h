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

// What a layer's input can hold: never negative (after ReLU), a small negative range next to a larger
// positive one (after h-swish: >= -0.375), or both signs alike (a linear projection, the stem's input).
enum class InputRange { kNonNegative, kSmallNegative, kSigned };

// The activation grid of inputs with a small negative range (space.quant.small_negative):
// kUnsigned clamps the negatives to 0 ([0, 2^b - 1], OQA's reference quantizer), kAsymmetric keeps them
// with a learned offset (LSQ+), kSigned spends half the levels on them ([-2^(b-1), 2^(b-1) - 1]).
enum class SmallNegativeGrid { kUnsigned, kAsymmetric, kSigned };
std::string to_string(SmallNegativeGrid g);

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
  SmallNegativeGrid small_negative = SmallNegativeGrid::kUnsigned;

  // Bits with the default forms.
  LayerQuant uniform(int weight_bits, int act_bits) const;
  // Distinct quantizations of one layer (the product of the list sizes).
  double combinations() const;
  nlohmann::json to_json() const;
};

// Reads "weight_bits", "act_bits" (lists of 2..8), "weight_granularity" (list of "per_tensor" /
// "per_channel"), "weight_symmetric", "act_symmetric" (lists of booleans), "allow_float" and
// "small_negative" ("unsigned" | "asymmetric" | "signed").
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
// (per-tensor; asymmetric = unsigned grid with a learned offset; symmetric: signed for kSigned inputs,
// unsigned for kNonNegative ones, and for kSmallNegative ones the grid `small` names). Bits 0 gives a float
// spec.
nn::LayerQuantSpecs resolve_specs(const LayerQuant& q, InputRange range,
                                  SmallNegativeGrid small = SmallNegativeGrid::kUnsigned);

}  // namespace oqa::space
