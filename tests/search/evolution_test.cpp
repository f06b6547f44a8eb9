// Evolution, GA and random search on a synthetic objective whose constrained optimum is found by brute force;
// budgets are respected; an impossible budget names the smallest achievable value.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "oqa/cost/cost.h"
#include "oqa/search/encoding.h"
#include "oqa/pipeline/search_run.h"
#include "oqa/search/evolution.h"
#include "oqa/search/pareto.h"
#include "oqa/util/error.h"
#include "search/search_test_support.h"

using namespace oqa;

namespace {

struct Fixture {
  std::shared_ptr<space::Space> space = test::small_space();
  search::Encoder encoder{*space, search::Encoding::kArch};
  std::vector<double> weight;
  std::vector<space::Subnet> all = test::all_subnets(*space, "w4a4");

  Fixture() {
    std::mt19937 rng(5);
    std::normal_distribution<double> n(0, 1);
    for (size_t i = 0; i < encoder.size(); ++i) weight.push_back(n(rng));
  }
  // Synthetic accuracy: a fixed random linear function of the architecture one-hot.
  double score(const space::Subnet& s) const {
    const torch::Tensor x = encoder.encode({s});
    const float* row = x.data_ptr<float>();
    double v = 0;
    for (size_t i = 0; i < encoder.size(); ++i) v += weight[i] * row[i];
    return v;
  }
  search::SearchProblem problem(double macs_limit) const {
    search::SearchProblem p;
    p.space = space.get();
    p.fixed_genes = search::stage_fixed_genes(*space, "w4a4");
    p.score = [this](const std::vector<space::Subnet>& v) {
      std::vector<double> out;
      for (const auto& s : v) out.push_back(score(s));
      return out;
    };
    p.costs = [this](const space::Subnet& s) { return pipeline::subnet_costs(*space, s); };
    p.budgets = {{search::Metric::kMacs, macs_limit}};
    p.objective = search::Metric::kMacs;
    p.stage = "w4a4";
    return p;
  }
  double median_macs() const {
    std::vector<double> m;
    for (const auto& s : all) m.push_back(cost::count(*space, s).macs);
    std::nth_element(m.begin(), m.begin() + m.size() / 2, m.end());
    return m[m.size() / 2];
  }
  double brute_best(double limit) const {
    double best = -1e300;
    for (const auto& s : all)
      if (cost::count(*space, s).macs <= limit) best = std::max(best, score(s));
    return best;
  }
};

// A population of 30 for the small space.
search::EvolutionOptions small_run(search::Algorithm algo, int64_t generations, uint64_t seed) {
  search::EvolutionOptions o;
  o.algorithm = algo;
  o.population = 30;
  o.generations = generations;
  o.seed = seed;
  return o;
}

void expect_within_budget(const search::SearchResult& r, double limit) {
  EXPECT_LE(r.best.costs.macs, limit);
  for (const auto& c : r.population) EXPECT_LE(c.costs.macs, limit);
  for (const auto& c : r.front) EXPECT_LE(c.costs.macs, limit);
}

}  // namespace

TEST(Evolution, SpaceHasTheExpectedNetworkCount) {
  Fixture f;
  EXPECT_EQ(f.all.size(), 400u);  // per stage: 2 x 2 (depth 1) + 16 (depth 2) = 20; two stages
}

TEST(Evolution, EvolutionAndGaReachTheConstrainedOptimum) {
  Fixture f;
  const double limit = f.median_macs(), optimum = f.brute_best(limit);
  for (auto algo : {search::Algorithm::kEvolution, search::Algorithm::kGenetic}) {
    const search::EvolutionOptions o = small_run(algo, 40, 3);
    const search::SearchResult r = search::evolve(f.problem(limit), o);
    EXPECT_NEAR(r.best.score, optimum, 1e-9) << search::algorithm_name(algo);
    EXPECT_EQ(r.best_per_generation.size(), 40u);
    EXPECT_TRUE(std::is_sorted(r.best_per_generation.begin(), r.best_per_generation.end()))
        << "the best never gets worse (parents / elites survive)";
    expect_within_budget(r, limit);
    EXPECT_GT(r.rejected, 0) << "a median budget rejects some draws";
  }
}

TEST(Evolution, FixedGenesAreTheStageNormalizationAndHoldInEveryCandidate) {
  Fixture f;
  const auto normalize = search::stage_normalizer(*f.space, "w4a4");
  const auto fixed = search::stage_fixed_genes(*f.space, "w4a4");
  ASSERT_FALSE(fixed.empty());
  EXPECT_TRUE(search::stage_fixed_genes(*f.space, "mixed").empty());
  std::mt19937_64 rng(11);
  for (int t = 0; t < 20; ++t) {  // fixing the genes of a sampled subnet normalizes it
    const space::Subnet s = f.space->sample(rng);
    std::vector<int64_t> v = f.space->gene_values(s);
    for (const auto& [i, value] : fixed) v[i] = value;
    EXPECT_EQ(f.space->from_gene_values(v), normalize(s));
  }
  search::EvolutionOptions o;
  o.population = 20;
  o.generations = 10;
  const search::SearchResult r = search::evolve(f.problem(f.median_macs()), o);
  for (const auto* list : {&r.population, &r.front})
    for (const search::Candidate& c : *list) {
      EXPECT_EQ(c.subnet, normalize(c.subnet)) << space::to_string(c.subnet);
      EXPECT_EQ(c.genes, f.space->gene_values(c.subnet));
    }
}

TEST(Evolution, ScoringGeneValuesSearchesExactlyAsScoringSubnets) {
  Fixture f;
  const double limit = f.median_macs();
  for (auto algo : {search::Algorithm::kEvolution, search::Algorithm::kGenetic}) {
    const search::EvolutionOptions o = small_run(algo, 20, 5);
    const search::SearchProblem by_subnets = f.problem(limit);
    search::SearchProblem by_genes = by_subnets;
    by_genes.score = nullptr;  // scored from gene values only
    by_genes.score_genes = [&](const space::GeneRows& rows) {
      const torch::Tensor x = f.encoder.encode_values(rows);
      const float* data = x.data_ptr<float>();
      std::vector<double> out(rows.size(), 0.0);
      for (size_t n = 0; n < rows.size(); ++n)
        for (size_t i = 0; i < f.encoder.size(); ++i) out[n] += f.weight[i] * data[n * f.encoder.size() + i];
      return out;
    };
    const search::SearchResult a = search::evolve(by_subnets, o), b = search::evolve(by_genes, o);
    EXPECT_EQ(a.predicted, b.predicted);
    EXPECT_EQ(a.best.subnet, b.best.subnet) << search::algorithm_name(algo);
    EXPECT_DOUBLE_EQ(a.best.score, b.best.score);
    ASSERT_EQ(a.population.size(), b.population.size());
    for (size_t i = 0; i < a.population.size(); ++i) {
      EXPECT_EQ(a.population[i].subnet, b.population[i].subnet);
      EXPECT_EQ(b.population[i].genes, f.space->gene_values(b.population[i].subnet));
    }
    ASSERT_EQ(a.front.size(), b.front.size());
    for (size_t i = 0; i < a.front.size(); ++i) EXPECT_EQ(a.front[i].subnet, b.front[i].subnet);
  }
}

TEST(Evolution, MultiObjectiveFrontMatchesTheBruteForceFront) {
  Fixture f;
  const double limit = f.median_macs();
  search::EvolutionOptions o;
  o.algorithm = search::Algorithm::kGenetic;
  o.multi_objective = true;
  o.population = 40;
  o.generations = 40;
  const search::SearchResult r = search::evolve(f.problem(limit), o);
  expect_within_budget(r, limit);
  std::vector<double> score, macs;
  for (const auto& s : f.all) {
    const double m = cost::count(*f.space, s).macs;
    if (m > limit) continue;
    score.push_back(f.score(s));
    macs.push_back(m);
  }
  const auto truth = search::accuracy_cost_front(score, macs);
  size_t found = 0;
  for (size_t i : truth)
    for (const auto& c : r.front)
      if (std::abs(c.score - score[i]) < 1e-9 && c.costs.macs == macs[i]) ++found;
  EXPECT_GE(found, truth.size() * 9 / 10) << found << " of " << truth.size() << " true front points found";
  // The returned front is non-dominated among itself and sorted by cost.
  for (size_t i = 1; i < r.front.size(); ++i) {
    EXPECT_LT(r.front[i - 1].costs.macs, r.front[i].costs.macs);
    EXPECT_LT(r.front[i - 1].score, r.front[i].score);
  }
}

TEST(Evolution, ScoresEachNetworkOnceAndKeepsTheFrontOfEverythingScored) {
  Fixture f;
  const double limit = f.median_macs();
  search::SearchProblem p = f.problem(limit);
  // Reference: every subnet handed to score(), the front computed over all of them afterwards.
  std::vector<double> seen_score, seen_macs;
  std::vector<uint64_t> seen_hash;
  auto inner = p.score;
  p.score = [&](const std::vector<space::Subnet>& v) {
    const std::vector<double> s = inner(v);
    for (size_t i = 0; i < v.size(); ++i) {
      seen_hash.push_back(f.space->hash(v[i]));
      seen_score.push_back(s[i]);
      seen_macs.push_back(cost::count(*f.space, v[i]).macs);
    }
    return s;
  };
  search::EvolutionOptions o;
  o.population = 30;
  o.generations = 30;
  const search::SearchResult r = search::evolve(p, o);
  // The 400-network space repeats networks often: each reaches score() once (Space::hash is canonical).
  std::vector<uint64_t> sorted = seen_hash;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end())
      << "a network was scored twice";
  EXPECT_EQ(r.predicted, static_cast<int64_t>(seen_hash.size()));
  EXPECT_EQ(r.scored, 30 + 30 * (30 - static_cast<int64_t>(0.25 * 30)));
  EXPECT_LT(r.predicted, r.scored);
  for (const auto& c : r.population) EXPECT_DOUBLE_EQ(c.score, f.score(c.subnet)) << "cached score";
  // The incrementally kept front equals the front of every scored network.
  const auto truth = search::accuracy_cost_front(seen_score, seen_macs);
  ASSERT_EQ(r.front.size(), truth.size());
  for (size_t k = 0; k < truth.size(); ++k) {
    EXPECT_DOUBLE_EQ(r.front[k].score, seen_score[truth[k]]);
    EXPECT_EQ(r.front[k].costs.macs, seen_macs[truth[k]]);
  }
}

TEST(Evolution, ExactScoreReordersTheFinalPopulationAndFront) {
  Fixture f;
  const double limit = f.median_macs();
  search::SearchProblem p = f.problem(limit);
  // A "coarse" search score and an exact one that disagrees on the order: the final results follow the exact.
  p.exact_score = [&](const std::vector<space::Subnet>& v) {
    std::vector<double> out;
    for (const auto& s : v) out.push_back(-f.score(s));
    return out;
  };
  search::EvolutionOptions o;
  o.population = 20;
  o.generations = 10;
  const search::SearchResult r = search::evolve(p, o);
  for (const auto& c : r.population) EXPECT_DOUBLE_EQ(c.score, -f.score(c.subnet));
  for (size_t i = 1; i < r.population.size(); ++i)
    EXPECT_GE(r.population[i - 1].score, r.population[i].score);
  EXPECT_DOUBLE_EQ(r.best.score, r.population.front().score);
  for (const auto& c : r.front) EXPECT_DOUBLE_EQ(c.score, -f.score(c.subnet));
  for (size_t i = 1; i < r.front.size(); ++i) {
    EXPECT_LT(r.front[i - 1].costs.macs, r.front[i].costs.macs);
    EXPECT_LT(r.front[i - 1].score, r.front[i].score);
  }
}

TEST(Evolution, RandomSearchRespectsBudgetsAndCountsEvaluations) {
  Fixture f;
  const double limit = f.median_macs();
  const search::SearchResult r = search::random_search(f.problem(limit), 50, 1);
  EXPECT_EQ(r.scored, 50);
  expect_within_budget(r, limit);
  EXPECT_LE(r.best.score, f.brute_best(limit) + 1e-9);
}

TEST(Evolution, ImpossibleBudgetNamesTheSmallestAchievableValue) {
  Fixture f;
  const double smallest =
      cost::count(*f.space, space::apply_stage_quant(*f.space, f.space->smallest(), "w4a4")).macs;
  search::EvolutionOptions o;
  try {
    search::evolve(f.problem(smallest * 0.5), o);
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.kind(), util::ErrorKind::kUsage);
    EXPECT_NE(msg.find("smallest achievable macs at stage w4a4 is " + search::format_scaled(smallest)),
              std::string::npos)
        << msg;
  }
  // At exactly the smallest value the search succeeds and returns the smallest network.
  o.population = 4;
  o.generations = 2;
  const search::SearchResult r = search::evolve(f.problem(smallest), o);
  EXPECT_EQ(r.best.costs.macs, smallest);
}

// A share ("macs=25%") is placed between the smallest and the largest subnet's cost at the stage, against
// the costs of every subnet of the small space counted by hand; 0% admits only the smallest cost.
TEST(Budget, ShareOfTheStagesCostRangeResolvesBetweenSmallestAndLargest) {
  Fixture f;
  double lo = 1e300, hi = 0;
  for (const auto& s : f.all) {
    lo = std::min(lo, cost::count(*f.space, s).macs);
    hi = std::max(hi, cost::count(*f.space, s).macs);
  }
  ASSERT_LT(lo, hi);
  search::SearchProblem p = f.problem(0);
  p.budgets = {search::parse_budget("macs=0%"), search::parse_budget("macs=25%"), search::parse_budget("macs=100%")};
  EXPECT_DOUBLE_EQ(p.budgets[1].fraction, 0.25);
  EXPECT_EQ(p.budgets[1].to_string(), "macs<=25%");
  search::resolve_budgets(p);
  EXPECT_DOUBLE_EQ(p.budgets[0].limit, lo);
  EXPECT_DOUBLE_EQ(p.budgets[1].limit, lo + 0.25 * (hi - lo));
  EXPECT_NEAR(p.budgets[2].limit, hi, 1e-6 * hi);
  EXPECT_GE(p.budgets[2].limit, hi);
  search::check_budgets(p);  // every share can be met
  p.budgets = {p.budgets[1]};
  search::EvolutionOptions o;
  o.population = 8;
  o.generations = 3;
  expect_within_budget(search::evolve(p, o), lo + 0.25 * (hi - lo));
  for (const char* bad : {"macs=101%", "macs=-5%", "macs=%", "macs=x%"}) {
    try {
      search::parse_budget(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.kind(), util::ErrorKind::kUsage) << bad;
      EXPECT_NE(std::string(e.what()).find("0..100%"), std::string::npos) << e.what();
    }
  }
}

TEST(Budget, ParsesKindsAndSuffixesAndRejectsBadValues) {
  const search::Budget b = search::parse_budget("bitops=90M");
  EXPECT_EQ(b.metric, search::Metric::kBitops);
  EXPECT_DOUBLE_EQ(b.limit, 90e6);
  EXPECT_DOUBLE_EQ(search::parse_budget("bytes=1.5K").limit, 1500);
  EXPECT_DOUBLE_EQ(search::parse_budget("bits=3").limit, 3);
  for (const char* bad : {"bitops", "bitop=3M", "macs=-1", "macs=abc", "macs=", "macs=3X"}) {
    try {
      search::parse_budget(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.kind(), util::ErrorKind::kUsage) << bad;
    }
  }
  try {
    search::parse_budget("bitop=3M");
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'bitops'"), std::string::npos) << e.what();
  }
  search::Costs c;
  c.avg_weight_bits = 2.5;
  c.avg_act_bits = 3.5;
  EXPECT_FALSE(search::parse_budget("bits=3").admits(c));  // bits bounds both averages
  EXPECT_TRUE(search::parse_budget("wbits=3").admits(c));
}
