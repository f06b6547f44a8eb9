// Shared fixtures of the search tests: a small enumerable space and the brute-force list of its networks.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "oqa/space/make_space.h"
#include "oqa/space/space.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/util/config.h"
#include "train_supernet/supernet_test_support.h"

namespace oqa::test {

// The space of the supernet training tests' tiny config: two elastic stages (depth 1-2, kernel 3/5, expand 2/3)
// at 16 px, bits 2-4: 400 architectures.
inline std::shared_ptr<space::Space> small_space() {
  util::Config c = util::Config::from_json(tiny_config(), "test-config");
  return space::make_space(c.root().child("space"));
}

// Every distinct network of `space` at uniform quantization `quant` (architecture genes enumerated).
inline std::vector<space::Subnet> all_subnets(const space::Space& space, const std::string& quant) {
  const auto& genes = space.genes();
  std::vector<int64_t> values = space.gene_values(space.largest());
  std::vector<size_t> arch;  // genes that are not quantization genes and have a choice
  for (size_t i = 0; i < genes.size(); ++i)
    if (genes[i].field.rfind("quant.", 0) != 0 && genes[i].choices.size() > 1) arch.push_back(i);
  std::vector<space::Subnet> out;
  std::set<uint64_t> seen;
  std::vector<size_t> digit(arch.size(), 0);
  while (true) {
    for (size_t k = 0; k < arch.size(); ++k) values[arch[k]] = genes[arch[k]].choices[digit[k]];
    space::Subnet s = space::apply_stage_quant(space, space.from_gene_values(values), quant);
    if (seen.insert(space.hash(s)).second) out.push_back(s);
    size_t k = 0;
    while (k < arch.size() && ++digit[k] == genes[arch[k]].choices.size()) digit[k++] = 0;
    if (k == arch.size()) break;
  }
  return out;
}

}  // namespace oqa::test
