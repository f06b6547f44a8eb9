// IntegerModel: runs a DeployModel with integer arithmetic: activations quantized to their learned levels,
// integer weights, int32 accumulation, requantisation with s_in * s_w, batch norm as a per-channel affine.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include "oqa/deploy/deploy_model.h"

namespace oqa::deploy {

class IntegerModel {
 public:
  // Prepares every layer at the model's resolution: packs the integer weights for the GEMM, folds batch
  // norm, bias and the asymmetric-activation correction into per-channel scale and shift. A layer whose
  // input or weight is float (bits 0) or whose weights are asymmetric runs in float on its dequantized
  // weights (its input still fake-quantized when its input quantizer is not float; counted in summary()).
  explicit IntegerModel(const DeployModel& m);
  ~IntegerModel();
  IntegerModel(IntegerModel&&) noexcept;

  // x: [N, C, H, W] float32, normalised as the model's input expects (resized to resolution() when H or W
  // differ). Returns the logits [N, classes()]. Not reentrant: use one IntegerModel per calling thread.
  torch::Tensor forward(const torch::Tensor& x);

  // Runs forward `runs` times on x and returns the mean milliseconds spent in each layer:
  // [{"name", "kind", "ms"}, ...] in execution order (the input conversion is the first entry).
  nlohmann::json profile(const torch::Tensor& x, int runs);

  int64_t classes() const;
  int64_t resolution() const;
  int64_t in_channels() const;
  // {"integer_layers": n, "float_layers": n, "gemm": "avx2"|"generic", "layers": [{name, kind}, ...]}
  nlohmann::json summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oqa::deploy
