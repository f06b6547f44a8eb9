// Cost counting over an extracted static model: feature-map sizes propagated through its actual layers.
#include "oqa/cost/cost.h"

#include "oqa/util/error.h"

namespace oqa::cost {
namespace {

// Output map of a conv layer from its weight, stride and padding.
MapSize conv_output(const nn::StaticLayer& l, const MapSize& in) {
  const int64_t k = l.weight.size(2);
  return {l.weight.size(0), (in.height + 2 * l.padding - k) / l.stride + 1,
          (in.width + 2 * l.padding - l.weight.size(3)) / l.stride + 1};
}

nn::LayerShape shape_of(const nn::StaticLayer& l, const MapSize& in, const MapSize& out) {
  nn::LayerShape s;
  s.name = l.name;
  s.linear = l.op == nn::StaticOp::kLinear;
  s.in_channels = s.linear ? in.channels * in.height * in.width : in.channels;
  s.out_channels = l.weight.size(0);
  s.kernel_size = s.linear ? 1 : l.weight.size(2);
  s.stride = l.stride;
  s.groups = l.groups;
  if (!s.linear) {
    s.in_height = in.height, s.in_width = in.width;
    s.out_height = out.height, s.out_width = out.width;
  }
  s.bias = l.bias.defined();
  s.batch_norm = l.batch_norm.has_value();
  s.weight_spec = l.weight_quant.spec;
  s.input_spec = l.input_quant.spec;
  const int64_t weight_elements = s.out_channels * (s.in_channels / s.groups) * s.kernel_size * s.kernel_size;
  OQA_ASSERT(l.weight.numel() == weight_elements,
             "static layer " + l.name + ": weight size disagrees with its shape");
  return s;
}

}  // namespace

std::vector<MapSize> static_output_sizes(const nn::StaticModel& model) {
  std::vector<MapSize> maps;
  const MapSize input{model.in_channels(), model.resolution(), model.resolution()};
  for (const nn::StaticLayer& l : model.layers()) {
    const MapSize in = l.inputs.front() < 0 ? input : maps[static_cast<size_t>(l.inputs.front())];
    MapSize out = in;
    switch (l.op) {
      case nn::StaticOp::kConv: out = conv_output(l, in); break;
      case nn::StaticOp::kLinear: out = {l.weight.size(0), 1, 1}; break;
      case nn::StaticOp::kGlobalAvgPool: out = {in.channels, 1, 1}; break;
      case nn::StaticOp::kAdd:
      case nn::StaticOp::kMul: break;
    }
    maps.push_back(out);
  }
  return maps;
}

std::vector<nn::LayerShape> static_layer_shapes(const nn::StaticModel& model) {
  const std::vector<MapSize> maps = static_output_sizes(model);
  const MapSize input{model.in_channels(), model.resolution(), model.resolution()};
  std::vector<nn::LayerShape> shapes;
  for (size_t i = 0; i < maps.size(); ++i) {
    const nn::StaticLayer& l = model.layers()[i];
    if (l.op != nn::StaticOp::kConv && l.op != nn::StaticOp::kLinear) continue;
    const int src = l.inputs.front();
    shapes.push_back(shape_of(l, src < 0 ? input : maps[static_cast<size_t>(src)], maps[i]));
  }
  return shapes;
}

CostSummary count(const nn::StaticModel& model, const CostOptions& options) {
  return summarize(static_layer_shapes(model), options);
}

}  // namespace oqa::cost
