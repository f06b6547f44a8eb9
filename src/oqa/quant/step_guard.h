// StepSizeGuard: bounds how far one optimizer step may move each LSQ step size, and counts the clamps.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace oqa::quant {

// How many step-size table elements one optimizer step had to hold back.
struct StepSizeClamps {
  int64_t bounded = 0;  // moved by more than the relative bound and were held at it
  int64_t at_min = 0;   // fell below their quantizer's min_step and were raised to it
  StepSizeClamps& operator+=(const StepSizeClamps& o) {
    bounded += o.bounded;
    at_min += o.at_min;
    return *this;
  }
};

// A bounded relative update: after an optimizer step every step size s lies in [s0 / (1 + r), s0 * (1 + r)],
// s0 its value before the step, and at or above its quantizer's min_step. At 2 bits a few large LSQ
// step-size gradients otherwise throw a step size far off in one update (up to 1e15, or onto its lower
// bound), and the layer then quantizes to a single level. r <= 0 keeps only the min_step bound.
class StepSizeGuard {
 public:
  explicit StepSizeGuard(double max_relative_change) : r_(max_relative_change) {}

  // Remembers every step size of every Quantizer in model's tree that has a gradient (the ones this step
  // used; entries are created lazily, so call it after the backward pass, right before the optimizer step).
  void before_step(torch::nn::Module& model);
  // Applies the bounds to the step sizes remembered by before_step.
  StepSizeClamps after_step();

 private:
  struct Entry {
    torch::Tensor step;  // the parameter
    torch::Tensor before;
    double min_step;
  };
  double r_;
  std::vector<Entry> entries_;
};

}  // namespace oqa::quant
