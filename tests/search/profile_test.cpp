// Hardware profiles: reading with clear errors, gene domains, and every subnet the search returns honours
// one.
#include <gtest/gtest.h>

#include <fstream>

#include "oqa/cost/cost.h"
#include "oqa/pipeline/search_run.h"
#include "oqa/search/evolution.h"
#include "oqa/search/profile.h"
#include "oqa/util/error.h"
#include "search/search_test_support.h"
#include "util/test_dir.h"

using namespace oqa;

namespace {

// The tiny space with every form elastic (bits 2..4, both granularities and symmetries).
std::shared_ptr<space::Space> forms_space() {
  util::Config c = util::Config::from_json(test::tiny_forms_config(), "test-config");
  return space::make_space(c.root().child("space"));
}

search::HardwareProfile profile_of(const nlohmann::json& j) {
  util::Config c = util::Config::from_json(j, "p.json");
  search::HardwareProfile p = search::read_profile(c.root());
  c.check_unknown();
  return p;
}

// A mixed-stage problem whose synthetic score grows with every bit and prefers per-channel asymmetric forms:
// without a profile the search climbs to forms and bits a restrictive profile forbids.
search::SearchProblem mixed_problem(const space::Space& space) {
  search::SearchProblem p;
  p.space = &space;
  p.score = [](const std::vector<space::Subnet>& v) {
    std::vector<double> out;
    for (const auto& s : v) {
      double x = 0;
      for (const auto& q : s.quant)
        x += q.weight_bits + q.act_bits + (q.weight_granularity == quant::Granularity::kPerChannel) +
             !q.weight_symmetric + !q.act_symmetric;
      out.push_back(x);
    }
    return out;
  };
  p.costs = [&space](const space::Subnet& s) { return pipeline::subnet_costs(space, s); };

  p.objective = search::Metric::kBitops;
  p.stage = "mixed";
  return p;
}

std::vector<const search::Candidate*> returned(const search::SearchResult& r) {
  std::vector<const search::Candidate*> out{&r.best};
  for (const auto* list : {&r.population, &r.front})
    for (const auto& c : *list) out.push_back(&c);
  return out;
}

}  // namespace

TEST(Profile, ReadsValuesOrListsAndNamesTheKeyOfABadValue) {
  const search::HardwareProfile p = profile_of({{"weight_bits", {2, 3}},
                                                {"act_bits", 8},
                                                {"weight_granularity", "per_tensor"},
                                                {"act_symmetric", {true}}});
  EXPECT_EQ(p.weight_bits, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(p.act_bits, (std::vector<int64_t>{8}));
  EXPECT_EQ(p.weight_granularity, (std::vector<int64_t>{0}));
  EXPECT_TRUE(p.weight_symmetric.empty());
  EXPECT_EQ(p.act_symmetric, (std::vector<int64_t>{1}));
  EXPECT_EQ(p.to_json(), nlohmann::json::parse(R"({"weight_bits": [2, 3], "act_bits": [8],
      "weight_granularity": ["per_tensor"], "act_symmetric": [true]})"));
  EXPECT_TRUE(profile_of(nlohmann::json::object()).empty());
  auto error_of = [](const nlohmann::json& j) {
    try {
      profile_of(j);
    } catch (const util::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({{"weight_bits", {2, 9}}}).find("weight_bits"), std::string::npos);
  EXPECT_NE(error_of({{"weight_bits", {2, 9}}}).find("9"), std::string::npos);
  EXPECT_NE(error_of({{"weight_granularity", "per_row"}}).find("per_row"), std::string::npos);
  EXPECT_NE(error_of({{"act_symmetric", 1}}).find("act_symmetric"), std::string::npos);
  EXPECT_NE(error_of({{"wieght_bits", {2}}}).find("did you mean 'weight_bits'"), std::string::npos);
}

TEST(Profile, CommandLineTakesInlineJsonOrAFile) {
  EXPECT_EQ(search::parse_profile_arg(R"({"act_bits": [4, 8]})").act_bits, (std::vector<int64_t>{4, 8}));
  TestDir dir;
  const std::string path = (dir.path / "hw.json").string();
  std::ofstream(path) << R"({"weight_symmetric": false})";
  EXPECT_EQ(search::parse_profile_arg(path).weight_symmetric, (std::vector<int64_t>{0}));
  EXPECT_THROW(search::parse_profile_arg((dir.path / "missing.json").string()), util::Error);
  EXPECT_THROW(search::parse_profile_arg("{\"act_bits\": "), util::Error);
  EXPECT_THROW(search::parse_profile_arg("[4]"), util::Error);
}

TEST(Profile, DomainsNarrowTheQuantGenesAndAnImpossibleProfileIsRefusedAtOnce) {
  const auto space = forms_space();
  const auto domains = search::profile_domains(*space, profile_of({{"weight_bits", {3, 4, 8}}}));
  ASSERT_EQ(domains.size(), space->searched_layers());  // one weight-bits gene per searched layer
  for (const auto& d : domains) {
    EXPECT_EQ(d.values, (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(space->genes()[d.gene].field.rfind("quant.weight_bits[", 0), 0u);
  }
  EXPECT_TRUE(search::profile_domains(*space, profile_of({{"act_bits", {2, 3, 4}}})).empty());  // all allowed
  try {
    search::profile_domains(*space, profile_of({{"act_bits", 8}}));
    FAIL() << "an 8-bit-only profile on a 2..4-bit space was accepted";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "profile.act_bits");
    EXPECT_EQ(e.field_value(), "[8]");
    EXPECT_NE(std::string(e.what()).find("2, 3, 4"), std::string::npos) << e.what();
  }
}

TEST(Profile, EverySubnetTheSearchReturnsHonoursTheProfile) {
  const auto space = forms_space();
  const search::HardwareProfile profile = profile_of({{"weight_bits", {2, 3}},
                                                      {"act_bits", 3},
                                                      {"weight_granularity", "per_tensor"},
                                                      {"weight_symmetric", true}});
  search::EvolutionOptions o;
  o.population = 24;
  o.generations = 15;
  search::SearchProblem free_problem = mixed_problem(*space);
  const search::SearchResult unrestricted = search::evolve(free_problem, o);
  EXPECT_FALSE(profile.admits(unrestricted.best.subnet))
      << "the synthetic score should climb out of the profile";
  search::SearchProblem p = free_problem;
  p.domains = search::profile_domains(*space, profile);
  for (auto algo : {search::Algorithm::kEvolution, search::Algorithm::kGenetic, search::Algorithm::kRandom}) {
    o.algorithm = algo;
    const search::SearchResult r = search::evolve(p, o);
    for (const search::Candidate* c : returned(r)) {
      EXPECT_TRUE(profile.admits(c->subnet))
          << search::algorithm_name(algo) << ": " << space::to_string(c->subnet);
      EXPECT_EQ(c->genes, space->gene_values(c->subnet));
    }
  }
}

TEST(Profile, AStageFixingAValueOutsideTheProfileAndBudgetsBelowItsSmallestSubnetAreRefused) {
  const auto space = forms_space();
  search::SearchProblem p = mixed_problem(*space);
  p.fixed_genes = search::stage_fixed_genes(*space, "w2a2");
  p.stage = "w2a2";
  p.domains = search::profile_domains(*space, profile_of({{"weight_bits", 4}}));
  try {
    search::check_domains(p);
    FAIL() << "a 4-bit-only profile was accepted at stage w2a2";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("w2a2"), std::string::npos) << e.what();
    EXPECT_EQ(e.field_name(), "profile");
  }
  search::SearchProblem m = mixed_problem(*space);
  m.domains = search::profile_domains(*space, profile_of({{"weight_bits", 4}, {"act_bits", 4}}));
  EXPECT_NO_THROW(search::check_domains(m));
  // The smallest subnet within the profile: the smallest architecture at w4a4; below its average bits, no
  // subnet.
  const double floor = m.costs(space->with_quant(space->smallest(), "w4a4")).get(search::Metric::kBits);
  EXPECT_GT(floor, m.costs(space->smallest()).get(search::Metric::kBits));
  m.budgets = {{search::Metric::kBits, floor * 0.99}};
  EXPECT_THROW(search::check_budgets(m), util::Error);
  m.budgets = {{search::Metric::kBits, floor}};
  EXPECT_NO_THROW(search::check_budgets(m));
}

// A budget uniform draws almost never meet (2.3 average bits where each layer takes 2..4 bits): draws are
// repaired by stepping bits down, so the population fills and every candidate fits.
TEST(Evolution, TightAverageBitBudgetsAreMetByRepairingDraws) {
  const auto space = forms_space();
  search::SearchProblem p = mixed_problem(*space);
  p.budgets = {{search::Metric::kBits, 2.3}};
  search::EvolutionOptions o;
  o.population = 24;
  o.generations = 5;
  o.max_tries = 200;
  for (auto algo : {search::Algorithm::kEvolution, search::Algorithm::kGenetic}) {
    o.algorithm = algo;
    const search::SearchResult r = search::evolve(p, o);
    EXPECT_GE(r.population.size(), 12u);  // distinct networks of the final population
    for (const search::Candidate* c : returned(r)) EXPECT_LE(c->costs.get(search::Metric::kBits), 2.3);
    EXPECT_GT(r.best.costs.get(search::Metric::kBits), 2.0) << "the score rewards bits: the best uses the budget";
  }
}
