// Subnet: one architecture of a space (resolution, per-stage and per-block choices or per-group widths)
// plus its quantization config (per searched layer bit-widths and forms), and its canonical JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oqa/quant/quant_spec.h"

namespace oqa::space {

// Quantization of one searched layer. Bits 0 = float (no quantization of that tensor).
struct LayerQuant {
  int weight_bits = 0;
  int act_bits = 0;
  quant::Granularity weight_granularity = quant::Granularity::kPerTensor;
  bool weight_symmetric = true;
  bool act_symmetric = true;  // false: LSQ+ learned offset on an unsigned grid

  bool operator==(const LayerQuant& o) const;
  bool operator!=(const LayerQuant& o) const { return !(*this == o); }
};

// mbv3: one stage's depth and the kernel / expand ratio of each block slot (max depth entries; slots at or
// beyond depth do not run but keep their genes, as in OFA).
struct StageChoice {
  int64_t depth = 0;
  std::vector<int64_t> kernel;
  std::vector<int64_t> expand;
  bool operator==(const StageChoice& o) const;
};

struct Subnet {
  std::string kind;                 // "mbv3" | "resnet"
  int64_t resolution = 0;           // input images are resized to resolution x resolution
  std::vector<StageChoice> stages;  // mbv3 only
  std::vector<int64_t> widths;      // resnet only: channels of each width group (Space::genes names them)
  std::vector<LayerQuant> quant;    // one per searched layer (Space::layer_slots with precision "searched")

  bool operator==(const Subnet& o) const;
  bool operator!=(const Subnet& o) const { return !(*this == o); }
};

// Canonical JSON: {"kind", "resolution", "stages" | "widths", "quant": {"weight_bits", "act_bits",
// "weight_granularity", "weight_symmetric", "act_symmetric"}}; each quant attribute is a scalar when it is
// the same for every searched layer, else a list. Decoding needs the space: Space::parse.
nlohmann::json to_json(const Subnet& subnet);
std::string to_string(const Subnet& subnet);  // to_json(subnet).dump()

}  // namespace oqa::space
