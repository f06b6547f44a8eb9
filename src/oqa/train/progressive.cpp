// Progressive shrinking phases and the subnets each phase may sample.
#include "oqa/train/progressive.h"

#include <algorithm>

namespace oqa::train {

std::string gene_dimension(const space::Gene& gene) {
  const std::string& f = gene.field;
  if (f == "resolution") return "resolution";
  if (f.rfind("quant.", 0) == 0) return "quant";
  if (f.find(".kernel") != std::string::npos) return "kernel";
  if (f.find(".depth") != std::string::npos) return "depth";
  if (f.find(".expand") != std::string::npos || f.rfind("widths", 0) == 0) return "width";
  return "other";
}

int ProgressivePlan::phase_at(int64_t step) const {
  const int64_t n = static_cast<int64_t>(phases.size());
  for (int64_t i = n - 1; i > 0; --i)
    if (step >= phase_start(static_cast<int>(i))) return static_cast<int>(i);
  return 0;
}

int64_t ProgressivePlan::phase_start(int phase) const {
  return total_steps * phase / static_cast<int64_t>(phases.size());
}

bool ProgressivePlan::elastic(int phase, const std::string& dimension) const {
  for (int i = 0; i <= phase && i < static_cast<int>(phases.size()); ++i)
    if (phases[static_cast<size_t>(i)] == dimension) return true;
  return false;
}

ProgressivePlan progressive_plan(const space::Space& space, int64_t total_steps) {
  ProgressivePlan plan;
  plan.total_steps = total_steps;
  plan.phases.push_back("largest");
  for (const char* dim : {"kernel", "depth", "width"}) {
    const auto& genes = space.genes();
    if (std::any_of(genes.begin(), genes.end(),
                    [&](const space::Gene& g) { return g.choices.size() > 1 && gene_dimension(g) == dim; }))
      plan.phases.push_back(dim);
  }
  return plan;
}

space::Subnet restrict_to_phase(const space::Space& space, const space::Subnet& subnet,
                                const ProgressivePlan& plan, int phase) {
  std::vector<int64_t> values = space.gene_values(subnet);
  const auto& genes = space.genes();
  for (size_t i = 0; i < genes.size(); ++i) {
    const std::string dim = gene_dimension(genes[i]);
    if ((dim == "kernel" || dim == "depth" || dim == "width") && !plan.elastic(phase, dim))
      values[i] = *std::max_element(genes[i].choices.begin(), genes[i].choices.end());
  }
  return space.from_gene_values(values);
}

}  // namespace oqa::train
