// BN recalibration: re-estimates batch-norm running statistics of the active subnet on training images.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "oqa/data/loader.h"
#include "oqa/train/evaluate.h"

namespace oqa::train {

// Resets the running statistics of every batch norm in model (DynamicBatchNorm2d and torch BatchNorm2d), then
// runs the first `images` images of loader's epoch 0 through `forward` in train mode without gradients, with a
// cumulative average (momentum none). Momenta and the train/eval mode are restored afterwards. Returns the
// number of images used. images 0 leaves the statistics as they are.
int64_t recalibrate_bn(torch::nn::Module& model, const ForwardFn& forward, data::Loader& loader, int64_t images);

// Copies of every buffer of a module (running statistics, quantizer flags) to put back after an evaluation
// that must not change the training state.
class BufferSnapshot {
 public:
  explicit BufferSnapshot(const torch::nn::Module& model);
  void restore(torch::nn::Module& model) const;

 private:
  std::vector<torch::Tensor> copies_;
};

}  // namespace oqa::train
