// Cost formulas per layer, their sums, and the analytic count from a space.
#include "oqa/cost/cost.h"

#include <nlohmann/json.hpp>

namespace oqa::cost {
namespace {

constexpr double kFloatBytes = 4.0;
constexpr int kFloatBits = 32;

// Bytes of a quantized tensor's step sizes and offsets (float32 each).
double scale_bytes(const quant::QuantSpec& spec, double channels) {
  if (spec.is_float()) return 0.0;
  const double n = spec.per_channel() ? channels : 1.0;
  return kFloatBytes * n * (spec.symmetric ? 1.0 : 2.0);
}

}  // namespace

LayerCost layer_cost(const nn::LayerShape& l, const CostOptions& options) {
  LayerCost c;
  c.name = l.name;
  const double k2 = static_cast<double>(l.kernel_size * l.kernel_size);
  const double in_per_group = static_cast<double>(l.in_channels / l.groups);
  const double out = static_cast<double>(l.out_channels);
  c.macs = static_cast<double>(l.out_height * l.out_width) * out * in_per_group * k2;
  c.weight_params = out * in_per_group * k2;
  const double bias = l.bias ? out : 0.0, bn = l.batch_norm ? 2.0 * out : 0.0;
  c.params = c.weight_params + bias + bn;
  c.act_elements = static_cast<double>(l.in_channels * l.in_height * l.in_width);
  c.weight_bits = l.weight_spec.bits;
  c.act_bits = l.input_spec.bits;
  const double weight_bytes =
      c.weight_bits == 0 ? kFloatBytes * c.weight_params : c.weight_params * c.weight_bits / 8.0;
  c.bytes = weight_bytes + kFloatBytes * (bias + bn) + scale_bytes(l.weight_spec, out) +
            scale_bytes(l.input_spec, 1.0);
  const bool has_float = c.weight_bits == 0 || c.act_bits == 0;
  if (!has_float || options.float_layers == FloatLayers::kCount32) {
    const double bw = c.weight_bits == 0 ? kFloatBits : c.weight_bits;
    const double ba = c.act_bits == 0 ? kFloatBits : c.act_bits;
    c.bitops = c.macs * bw * ba;
  }
  return c;
}

CostSummary summarize(const std::vector<nn::LayerShape>& layers, const CostOptions& options) {
  CostSummary s;
  double wsum = 0, wbits = 0, asum = 0, abits = 0;
  const bool count_float = options.float_layers == FloatLayers::kCount32;
  s.layers.reserve(layers.size());
  for (const nn::LayerShape& l : layers) {
    LayerCost c = layer_cost(l, options);
    s.macs += c.macs;
    s.params += c.params;
    s.bytes += c.bytes;
    s.bitops += c.bitops;
    if (c.weight_bits != 0 || count_float) {
      wsum += c.weight_params;
      wbits += c.weight_params * (c.weight_bits == 0 ? kFloatBits : c.weight_bits);
    }
    if (c.act_bits != 0 || count_float) {
      asum += c.act_elements;
      abits += c.act_elements * (c.act_bits == 0 ? kFloatBits : c.act_bits);
    }
    s.layers.push_back(std::move(c));
  }
  s.avg_weight_bits = wsum > 0 ? wbits / wsum : 0.0;
  s.avg_act_bits = asum > 0 ? abits / asum : 0.0;
  return s;
}

CostSummary count(const space::Space& space, const space::Subnet& subnet, const CostOptions& options) {
  return summarize(space.layer_shapes(subnet), options);
}

nlohmann::json CostSummary::to_json(bool with_layers) const {
  nlohmann::json j{{"macs", macs},
                   {"params", params},
                   {"bytes", bytes},
                   {"bitops", bitops},
                   {"avg_weight_bits", avg_weight_bits},
                   {"avg_act_bits", avg_act_bits}};
  if (!with_layers) return j;
  nlohmann::json list = nlohmann::json::array();
  for (const LayerCost& c : layers)
    list.push_back({{"name", c.name},
                    {"macs", c.macs},
                    {"params", c.params},
                    {"bytes", c.bytes},
                    {"bitops", c.bitops},
                    {"weight_bits", c.weight_bits},
                    {"act_bits", c.act_bits}});
  j["layers"] = list;
  return j;
}

}  // namespace oqa::cost
