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
  static_cast<CostNumbers&>(c) = layer_numbers(l, options);
  c.name = l.name;
  return c;
}

CostNumbers layer_numbers(const nn::LayerShape& l, const CostOptions& options) {
  CostNumbers c;
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

namespace {

// Sums layer costs into a summary's totals and average bit-widths.
class Totals {
 public:
  explicit Totals(const CostOptions& options) : count_float_(options.float_layers == FloatLayers::kCount32) {}

  void add(const CostNumbers& c) {
    s_.macs += c.macs;
    s_.params += c.params;
    s_.bytes += c.bytes;
    s_.bitops += c.bitops;
    if (c.weight_bits != 0 || count_float_) {
      wsum_ += c.weight_params;
      wbits_ += c.weight_params * (c.weight_bits == 0 ? kFloatBits : c.weight_bits);
    }
    if (c.act_bits != 0 || count_float_) {
      asum_ += c.act_elements;
      abits_ += c.act_elements * (c.act_bits == 0 ? kFloatBits : c.act_bits);
    }
  }

  CostSummary finish(std::vector<LayerCost> layers = {}) {
    s_.avg_weight_bits = wsum_ > 0 ? wbits_ / wsum_ : 0.0;
    s_.avg_act_bits = asum_ > 0 ? abits_ / asum_ : 0.0;
    s_.layers = std::move(layers);
    return std::move(s_);
  }

 private:
  bool count_float_;
  CostSummary s_;
  double wsum_ = 0, wbits_ = 0, asum_ = 0, abits_ = 0;
};

}  // namespace

CostSummary summarize(const std::vector<nn::LayerShape>& layers, const CostOptions& options) {
  Totals totals(options);
  std::vector<LayerCost> costs;
  costs.reserve(layers.size());
  for (const nn::LayerShape& l : layers) {
    costs.push_back(layer_cost(l, options));
    totals.add(costs.back());
  }
  return totals.finish(std::move(costs));
}

CostSummary count(const space::Space& space, const space::Subnet& subnet, const CostOptions& options) {
  return summarize(space.layer_shapes(subnet), options);
}

CostSummary count_totals(const space::Space& space, const space::Subnet& subnet, const CostOptions& options) {
  struct Sink final : space::LayerSink {
    const CostOptions& options;
    Totals totals;
    explicit Sink(const CostOptions& o) : options(o), totals(o) {}
    void layer(const nn::LayerShape& shape, size_t) override { totals.add(layer_numbers(shape, options)); }
  } sink(options);
  space.visit_layers(subnet, sink);
  return sink.totals.finish();
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
