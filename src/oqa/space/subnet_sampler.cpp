// Sandwich subnet lists from the space's largest / sample / smallest.
#include "oqa/space/subnet_sampler.h"

#include <random>

namespace oqa::space {

Subnet apply_stage_quant(const Space& space, Subnet subnet, const std::string& quant) {
  if (quant == "mixed") return subnet;
  return space.with_quant(std::move(subnet), quant);
}

Subnet with_random_forms(const Space& space, const Subnet& subnet, std::mt19937_64& rng) {
  std::vector<int64_t> values = space.gene_values(subnet);
  const std::vector<Gene>& genes = space.genes();
  for (size_t i = space.quant_genes_begin(); i < genes.size(); ++i)
    if (!genes[i].ordered)
      values[i] = genes[i].choices[std::uniform_int_distribution<size_t>(0, genes[i].choices.size() - 1)(rng)];
  return space.from_valid_gene_values(values);
}

std::vector<Subnet> sandwich_subnets(const Space& space, const std::string& quant, int64_t n_random,
                                     uint64_t seed, const std::function<Subnet(const Subnet&)>& shape) {
  std::mt19937_64 rng(seed);
  auto finish = [&](const Subnet& s) { return apply_stage_quant(space, shape ? shape(s) : s, quant); };
  // EQ-Net: in a mixed stage the highest- and lowest-bit subnets draw their forms too.
  auto extreme = [&](const Subnet& s) { return quant == "mixed" ? with_random_forms(space, s, rng) : s; };
  std::vector<Subnet> out;
  out.push_back(finish(extreme(space.largest())));
  for (int64_t i = 0; i < n_random; ++i) out.push_back(finish(space.sample(rng)));
  out.push_back(finish(extreme(space.smallest())));
  return out;
}

}  // namespace oqa::space
