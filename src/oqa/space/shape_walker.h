// ShapeWalker: builds the analytic LayerShape list of a subnet, tracking the feature-map size layer by layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oqa/nn/layer_shape.h"

namespace oqa::space {

class ShapeWalker {
 public:
  explicit ShapeWalker(int64_t resolution) : size_(resolution) { shapes_.reserve(64); }

  // A conv with padding kernel / 2 on the current map; the map becomes its output.
  void conv(std::string name, int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups = 1,
            bool bias = false, bool batch_norm = true);
  // A 1x1 conv on a globally pooled (1x1) map (squeeze-excite, feature mix); the current map size is kept.
  void pointwise_on_pooled(std::string name, int64_t in, int64_t out, bool bias, bool batch_norm = false);
  void linear(std::string name, int64_t in, int64_t out, bool bias = true);

  int64_t size() const { return size_; }
  void set_size(int64_t size) { size_ = size; }  // e.g. back to a block's input for its shortcut
  std::vector<nn::LayerShape> take() { return std::move(shapes_); }

 private:
  int64_t size_;
  std::vector<nn::LayerShape> shapes_;
};

}  // namespace oqa::space
