// LayerShape: the geometry and quantization of one conv or linear layer, the input of cost counting.
#pragma once

#include <cstdint>
#include <string>

#include "oqa/quant/quant_spec.h"

namespace oqa::nn {

// A linear layer is a 1x1 "conv" on a 1x1 map (kernel_size 1, all heights and widths 1).
struct LayerShape {
  std::string name;
  bool linear = false;
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel_size = 1, stride = 1, groups = 1;
  int64_t in_height = 1, in_width = 1, out_height = 1, out_width = 1;
  bool bias = false;
  bool batch_norm = false;
  quant::QuantSpec weight_spec = quant::QuantSpec::float_spec();
  quant::QuantSpec input_spec = quant::QuantSpec::float_spec();
};

// Output size of a conv with padding kernel / 2: (in + 2 * (kernel / 2) - kernel) / stride + 1.
inline int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride) {
  return (in + 2 * (kernel / 2) - kernel) / stride + 1;
}

}  // namespace oqa::nn
