// uniform_anchors: the uniform subnets of a mixed-precision search that meet its budgets.
#include "oqa/search/anchors.h"

#include <algorithm>
#include <string>

namespace oqa::search {

std::vector<space::Subnet> uniform_anchors(const SearchProblem& p) {
  if (!p.fixed_genes.empty()) return {};
  const space::Space& space = *p.space;
  struct Anchor {
    space::Subnet subnet;
    Costs costs;
    std::vector<int64_t> genes;
  };
  std::vector<Anchor> feasible;
  for (int w : space.quant_choices().weight_bits)
    for (int a : space.quant_choices().act_bits) {
      Anchor x;
      x.subnet = within_domains(
          p, space.with_quant(space.largest(), "w" + std::to_string(w) + "a" + std::to_string(a)));
      x.genes = space.gene_values(x.subnet);
      const bool seen =
          std::any_of(feasible.begin(), feasible.end(), [&](const Anchor& f) { return f.genes == x.genes; });
      if (seen) continue;
      x.costs = p.costs(x.subnet);
      if (std::all_of(p.budgets.begin(), p.budgets.end(), [&](const Budget& b) { return b.admits(x.costs); }))
        feasible.push_back(std::move(x));
    }
  auto dominates = [](const Costs& a, const Costs& b) {
    return a.avg_weight_bits >= b.avg_weight_bits && a.avg_act_bits >= b.avg_act_bits &&
           (a.avg_weight_bits > b.avg_weight_bits || a.avg_act_bits > b.avg_act_bits);
  };
  std::vector<Anchor> kept;
  for (const Anchor& x : feasible)
    if (std::none_of(feasible.begin(), feasible.end(),
                     [&](const Anchor& y) { return dominates(y.costs, x.costs); }))
      kept.push_back(x);
  std::stable_sort(kept.begin(), kept.end(), [](const Anchor& a, const Anchor& b) {
    return a.costs.avg_weight_bits + a.costs.avg_act_bits > b.costs.avg_weight_bits + b.costs.avg_act_bits;
  });
  std::vector<space::Subnet> out;
  for (Anchor& x : kept) out.push_back(std::move(x.subnet));
  return out;
}

}  // namespace oqa::search
