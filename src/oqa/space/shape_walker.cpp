// ShapeWalker: conv, pooled pointwise and linear layer shapes.
#include "oqa/space/shape_walker.h"

#include <utility>

namespace oqa::space {

void ShapeWalker::conv(std::string name, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                       int64_t groups, bool bias, bool batch_norm) {
  nn::LayerShape l;
  l.name = std::move(name);
  l.in_channels = in;
  l.out_channels = out;
  l.kernel_size = kernel;
  l.stride = stride;
  l.groups = groups;
  l.in_height = l.in_width = size_;
  size_ = nn::conv_out_size(size_, kernel, stride);
  l.out_height = l.out_width = size_;
  l.bias = bias;
  l.batch_norm = batch_norm;
  shapes_.push_back(std::move(l));
}

void ShapeWalker::pointwise_on_pooled(std::string name, int64_t in, int64_t out, bool bias, bool batch_norm) {
  const int64_t keep = size_;
  size_ = 1;
  conv(std::move(name), in, out, 1, 1, 1, bias, batch_norm);
  size_ = keep;
}

void ShapeWalker::linear(std::string name, int64_t in, int64_t out, bool bias) {
  nn::LayerShape l;
  l.name = std::move(name);
  l.linear = true;
  l.in_channels = in;
  l.out_channels = out;
  l.bias = bias;
  shapes_.push_back(std::move(l));
}

}  // namespace oqa::space
