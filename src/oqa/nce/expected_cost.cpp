// The bilinear per-layer cost of width groups, fitted by probing the cost model, and the cost loss.
#include "oqa/nce/expected_cost.h"

#include <cmath>

#include "oqa/cost/cost.h"
#include "oqa/search/budget.h"
#include "oqa/util/error.h"

namespace oqa::nce {

CostBudget parse_cost_budget(const std::string& text) {
  const size_t eq = text.find('=');
  const std::string kind = text.substr(0, eq);
  if (eq == std::string::npos || eq + 1 == text.size() || (kind != "macs" && kind != "params"))
    throw util::usage_error("expected macs=VALUE or params=VALUE (VALUE a number with K/M/G, or base)")
        .field("nce.budget")
        .value(text);
  CostBudget b{kind == "macs" ? CostMetric::kMacs : CostMetric::kParams, text.substr(eq + 1)};
  if (b.value != "base") search::parse_scaled(b.value, "nce.budget " + text);
  return b;
}

std::string metric_name(CostMetric m) {
  return m == CostMetric::kMacs ? "macs" : "params";
}

namespace {

double metric_of(const nn::LayerShape& s, CostMetric metric) {
  const cost::CostNumbers n = cost::layer_numbers(s);
  return metric == CostMetric::kMacs ? n.macs : n.params;
}

double layer_at(const nn::LayerShape& shape, int64_t in, int64_t out, CostMetric metric) {
  nn::LayerShape s = shape;
  s.in_channels = in;
  s.out_channels = out;
  return metric_of(s, metric);
}

}  // namespace

ExpectedCost::ExpectedCost(const space::ResNetSpace& space, CostMetric metric) {
  const auto& groups = space.width_groups();
  space::Subnet ref = space.largest();
  for (size_t g = 0; g < groups.size(); ++g) ref.widths[g] = groups[g].candidates.front();
  const std::vector<nn::LayerShape> shapes = space.layer_shapes(ref);
  for (const nn::LayerShape& s : shapes) {
    Term t;
    t.in_fixed = static_cast<double>(s.in_channels);
    t.out_fixed = static_cast<double>(s.out_channels);
    const double f11 = layer_at(s, 1, 1, metric), f21 = layer_at(s, 2, 1, metric);
    const double f12 = layer_at(s, 1, 2, metric), f22 = layer_at(s, 2, 2, metric);
    t.a = f22 - f21 - f12 + f11;
    t.b = f21 - f11 - t.a;
    t.c = f12 - f11 - t.a;
    t.d = f11 - t.a - t.b - t.c;
    terms_.push_back(t);
  }
  // Which group sets each layer's input and output width: change one group's width and look.
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].candidates.size() < 2) continue;
    space::Subnet probe = ref;
    probe.widths[g] = groups[g].candidates[1];
    const std::vector<nn::LayerShape> changed = space.layer_shapes(probe);
    OQA_ASSERT(changed.size() == shapes.size(), "a width changed the number of layers");
    for (size_t l = 0; l < shapes.size(); ++l) {
      if (changed[l].in_channels != shapes[l].in_channels) terms_[l].in_group = static_cast<int>(g);
      if (changed[l].out_channels != shapes[l].out_channels) terms_[l].out_group = static_cast<int>(g);
    }
  }
}

double ExpectedCost::at(const std::vector<int64_t>& widths) const {
  double total = 0;
  for (const Term& t : terms_) {
    const double in =
        t.in_group < 0 ? t.in_fixed : static_cast<double>(widths.at(static_cast<size_t>(t.in_group)));
    const double out =
        t.out_group < 0 ? t.out_fixed : static_cast<double>(widths.at(static_cast<size_t>(t.out_group)));
    total += t.a * in * out + t.b * in + t.c * out + t.d;
  }
  return total;
}

torch::Tensor ExpectedCost::expected(const torch::Tensor& widths) const {
  torch::Tensor total = torch::zeros({}, widths.options());
  for (const Term& t : terms_) {
    const torch::Tensor in =
        t.in_group < 0 ? torch::full({}, t.in_fixed, widths.options()) : widths[t.in_group];
    const torch::Tensor out =
        t.out_group < 0 ? torch::full({}, t.out_fixed, widths.options()) : widths[t.out_group];
    total = total + t.a * in * out + t.b * in + t.c * out + t.d;
  }
  return total;
}

torch::Tensor cost_loss(const torch::Tensor& expected, double target, double tolerance) {
  const torch::Tensor r = torch::log(expected / target);
  const double band = std::log1p(tolerance);
  return torch::relu(r - band) + torch::relu(-r - band);
}

}  // namespace oqa::nce
