// ExpectedCost: a space's MACs or parameters as a function of its width groups' widths (bilinear per layer,
// fitted from the cost model of `oqa info` / `oqa eval`), evaluated on expected widths for the cost loss.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "oqa/space/resnet_space.h"

namespace oqa::nce {

enum class CostMetric { kMacs, kParams };

// "macs=41M" / "params=0.27M" / "macs=base": the metric and the value text after '='; usage errors otherwise.
struct CostBudget {
  CostMetric metric = CostMetric::kMacs;
  std::string value;  // "base" or a number with K/M/G suffix
};
CostBudget parse_cost_budget(const std::string& text);
std::string metric_name(CostMetric m);

class ExpectedCost {
 public:
  // The subnet's quantization does not enter MACs or parameters; `space` must have widths to choose.
  ExpectedCost(const space::ResNetSpace& space, CostMetric metric);

  // Cost at these widths (one per group): equals cost::count(space, subnet) of the same widths.
  double at(const std::vector<int64_t>& widths) const;
  // The same on expected widths [groups] (differentiable): each layer a * E[c_in] E[c_out] + b E[c_in] +
  // c E[c_out] + d, input and output widths taken as independent (TAS).
  torch::Tensor expected(const torch::Tensor& widths) const;

 private:
  struct Term {
    int in_group = -1, out_group = -1;  // -1: a fixed width (image channels, classes)
    double in_fixed = 0, out_fixed = 0;
    double a = 0, b = 0, c = 0, d = 0;
  };
  std::vector<Term> terms_;
};

// The cost loss: lambda-free, zero while expected / target is within 1 +- tolerance, else the distance of
// log(expected / target) from that band (pushes down from above and up from below).
torch::Tensor cost_loss(const torch::Tensor& expected, double target, double tolerance);

}  // namespace oqa::nce
