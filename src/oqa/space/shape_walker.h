// ShapeWalker: emits the analytic LayerShape of each layer a subnet runs to a LayerSink, tracking the
// feature-map size layer by layer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "oqa/nn/layer_shape.h"

namespace oqa::space {

class Space;
struct Subnet;

// Receives each layer a subnet runs: its shape (name left empty, specs resolved) and its layer slot index.
class LayerSink {
 public:
  virtual void layer(const nn::LayerShape& shape, size_t slot) = 0;

 protected:
  ~LayerSink() = default;
};

class ShapeWalker {
 public:
  // Starts at the subnet's resolution; each layer's specs come from Space::slot_specs.
  ShapeWalker(const Space& space, const Subnet& subnet, LayerSink& sink);

  // A conv with padding kernel / 2 on the current map; the map becomes its output.
  void conv(size_t slot, int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups = 1,
            bool bias = false, bool batch_norm = true);
  // A 1x1 conv on a globally pooled (1x1) map (squeeze-excite, feature mix); the current map size is kept.
  void pointwise_on_pooled(size_t slot, int64_t in, int64_t out, bool bias, bool batch_norm = false);
  void linear(size_t slot, int64_t in, int64_t out, bool bias = true);

  int64_t size() const { return size_; }
  void set_size(int64_t size) { size_ = size; }  // e.g. back to a block's input for its shortcut

 private:
  void emit(nn::LayerShape& l, size_t slot);

  const Space& space_;
  const Subnet& subnet_;
  LayerSink& sink_;
  int64_t size_;
};

}  // namespace oqa::space
