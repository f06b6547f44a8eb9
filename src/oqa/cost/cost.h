// Costs of a subnet: MACs, parameters, model bytes, BitOPs and average bit-widths, per layer and in total,
// computed analytically from (space, subnet) or by walking an extracted static model's layers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oqa/nn/layer_shape.h"
#include "oqa/nn/static_model.h"
#include "oqa/space/space.h"

namespace oqa::cost {

// How float tensors (bits 0) count in BitOPs and average bit-widths. Model bytes always store them at 4
// bytes.
enum class FloatLayers {
  kCount32,  // a float weight or activation counts as 32 bits
  kExclude,  // a layer with a float weight or input adds no BitOPs; float tensors leave the averages
};

struct CostOptions {
  FloatLayers float_layers = FloatLayers::kCount32;
};

// The numbers of one layer's cost (LayerCost without its name: the search's totals build no strings).
struct CostNumbers {
  double macs = 0;           // conv: H_out * W_out * C_out * (C_in / groups) * k^2; linear: in * out
  double params = 0;         // weight + bias + batch norm scale and shift (2 per channel)
  double weight_params = 0;  // weight elements only (the weights of the average weight bit-width)
  double act_elements =
      0;              // input feature-map elements C_in * H_in * W_in (weights of the average act bit-width)
  double bytes = 0;   // see model bytes in docs/costs.md
  double bitops = 0;  // macs * b_w * b_a
  int weight_bits = 0;  // 0 = float
  int act_bits = 0;
};

struct LayerCost : CostNumbers {
  std::string name;
};

struct CostSummary {
  double macs = 0, params = 0, bytes = 0, bitops = 0;
  double avg_weight_bits = 0;  // sum(weight_params * b_w) / sum(weight_params)
  double avg_act_bits = 0;     // sum(act_elements * b_a) / sum(act_elements)
  std::vector<LayerCost> layers;
  nlohmann::json to_json(bool with_layers = false) const;
};

LayerCost layer_cost(const nn::LayerShape& layer, const CostOptions& options = {});
CostNumbers layer_numbers(const nn::LayerShape& layer, const CostOptions& options = {});
CostSummary summarize(const std::vector<nn::LayerShape>& layers, const CostOptions& options = {});

// Analytic: from the space's description of the subnet's layers.
CostSummary count(const space::Space& space, const space::Subnet& subnet, const CostOptions& options = {});
// The same totals without the per-layer list, names or validation, allocating nothing: for subnets known to
// be valid (the search counts every new candidate).
CostSummary count_totals(const space::Space& space, const space::Subnet& subnet,
                         const CostOptions& options = {});
// Measured: walks an extracted model's layers, inferring feature-map sizes from its input resolution.
CostSummary count(const nn::StaticModel& model, const CostOptions& options = {});
// The layer shapes count(model) uses (weights' actual sizes, strides, groups, specs).
std::vector<nn::LayerShape> static_layer_shapes(const nn::StaticModel& model);

// One feature map (per image): channels x height x width.
struct MapSize {
  int64_t channels = 0, height = 0, width = 0;
};
// The output map of every layer of an extracted model, propagated from its input resolution.
std::vector<MapSize> static_output_sizes(const nn::StaticModel& model);

}  // namespace oqa::cost
