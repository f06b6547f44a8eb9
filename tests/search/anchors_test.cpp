// Uniform anchors of a mixed-precision search: the uniform subnets within the budgets and the profile, the
// non-dominated ones only, none for a uniform stage or when the largest architecture meets no budget.
#include <gtest/gtest.h>

#include <utility>

#include "oqa/pipeline/search_run.h"
#include "oqa/search/anchors.h"
#include "oqa/search/profile.h"
#include "oqa/space/make_space.h"
#include "train_supernet/supernet_test_support.h"

using namespace oqa;

namespace {

std::shared_ptr<space::Space> forms_space() {
  util::Config c = util::Config::from_json(test::tiny_forms_config(), "test-config");
  return space::make_space(c.root().child("space"));
}

search::SearchProblem mixed_problem(const space::Space& space, const std::string& budget) {
  search::SearchProblem p;
  p.space = &space;
  p.costs = [&space](const space::Subnet& s) { return pipeline::subnet_costs(space, s); };
  p.budgets = {search::parse_budget(budget)};
  p.stage = "mixed";
  return p;
}

// The (weight, activation) bits of a subnet whose searched layers all share them; (0, 0) when they differ.
std::pair<int, int> uniform_bits(const space::Subnet& s) {
  const std::pair<int, int> first{s.quant.at(0).weight_bits, s.quant.at(0).act_bits};
  for (const auto& q : s.quant)
    if (std::pair<int, int>{q.weight_bits, q.act_bits} != first) return {0, 0};
  return first;
}

}  // namespace

TEST(UniformAnchors, AnAverageBitBudgetGivesTheLargestArchitectureAtThoseBitsInTheDefaultForms) {
  const auto space = forms_space();
  const auto anchors = search::uniform_anchors(mixed_problem(*space, "bits=3"));
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_EQ(space::to_json(anchors[0]), space::to_json(space->with_quant(space->largest(), "w3a3")));
}

TEST(UniformAnchors, ABitopsBudgetKeepsEveryPairNoOtherFeasiblePairExceedsInBoth) {
  const auto space = forms_space();
  search::SearchProblem p = mixed_problem(*space, "bitops=1");
  // Every searched layer's BitOPs grow as w * a: at the budget of w3a3, the feasible pairs are those with
  // w * a <= 9, and of them (2, 4), (3, 3) and (4, 2) are not exceeded in both by another.
  p.budgets[0].limit = p.costs(space->with_quant(space->largest(), "w3a3")).bitops;
  std::vector<std::pair<int, int>> bits;
  for (const auto& a : search::uniform_anchors(p)) bits.push_back(uniform_bits(a));
  EXPECT_EQ(bits, (std::vector<std::pair<int, int>>{{2, 4}, {3, 3}, {4, 2}}));
}

TEST(UniformAnchors, FollowTheProfile) {
  const auto space = forms_space();
  search::SearchProblem p = mixed_problem(*space, "bits=3");
  search::HardwareProfile profile;
  profile.weight_bits = {2};
  profile.weight_granularity = {0};  // per-tensor
  p.domains = search::profile_domains(*space, profile);
  const auto anchors = search::uniform_anchors(p);
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_EQ(uniform_bits(anchors[0]), (std::pair<int, int>{2, 3}));
  for (const auto& q : anchors[0].quant) EXPECT_EQ(q.weight_granularity, quant::Granularity::kPerTensor);
}

TEST(UniformAnchors, NoneForAUniformStageOrWhenTheLargestArchitectureIsOverBudget) {
  const auto space = forms_space();
  search::SearchProblem p = mixed_problem(*space, "bits=3");
  p.fixed_genes = search::stage_fixed_genes(*space, "w2a2");
  EXPECT_TRUE(search::uniform_anchors(p).empty());
  search::SearchProblem q = mixed_problem(*space, "macs=1");
  q.budgets[0].limit = p.costs(space->largest()).macs - 1;
  EXPECT_TRUE(search::uniform_anchors(q).empty());
}
