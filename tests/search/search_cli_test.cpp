// `oqa search` end to end on a tiny trained run: files, budgets, choice on validation, resume of the accuracy
// dataset, and the clear errors (impossible budget, latency budget without a table, bad budget text).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "oqa/cost/cost.h"
#include "oqa/search/budget.h"
#include "oqa/space/make_space.h"
#include "train_supernet/supernet_test_support.h"
#include "util/run_command.h"
#include "util/test_dir.h"

using namespace oqa;

namespace {

// One tiny run (float, w4a4, then half an epoch of mixed precision), trained once for every test of this
// file.
class SearchCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TestDir;
    nlohmann::json config = test::tiny_config();
    config["supernet"]["stages"] = nlohmann::json::parse(
        R"([{"quant": "float", "epochs": 1, "lr": 0.05}, {"quant": "w4a4", "epochs": 1, "lr": 0.02},
            {"quant": "mixed", "epochs": 0.5, "lr": 0.02}])");
    run_ = (dir_->path / "run").string();
    test::run_pipeline(config, run_);
    space_ = test::experiment_of(config).space;
  }
  static void TearDownTestSuite() { delete dir_; }

  static int search(const std::string& args, std::string& out, const std::string& stage = "w4a4") {
    return test::run_command(std::string(OQA_BINARY) + " --threads 1 --quiet search --run " + run_ +
                                 " --stage " + stage +
                                 " --samples 12 --population 8 --generations 4 --top 2 " + args,
                             out);
  }
  static double macs(const space::Subnet& s) { return cost::count(*space_, s).macs; }

  static TestDir* dir_;
  static std::string run_;
  static std::shared_ptr<const space::Space> space_;
};
TestDir* SearchCli::dir_ = nullptr;
std::string SearchCli::run_;
std::shared_ptr<const space::Space> SearchCli::space_;

}  // namespace

TEST_F(SearchCli, FindsASubnetWithinTheBudgetAndWritesEveryFile) {
  const double lo = macs(space_->smallest()), hi = macs(space_->largest());
  const double limit = lo + 0.4 * (hi - lo);
  std::string out;
  ASSERT_EQ(
      search("--budget macs=" + std::to_string(static_cast<long long>(limit)) + " --objective macs", out), 0)
      << out;
  const std::string dir = run_ + "/search/w4a4";
  for (const char* f : {"accuracy.json", "predictor-arch.pt", "predictor-arch.json", "predictor-quant.pt",
                        "predictor-quant.json", "predictor-cond.pt", "predictor-cond.json", "pareto.json",
                        "pareto.csv", "best.json", "search.json"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  if (std::system("command -v gnuplot >/dev/null") == 0) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/pareto.png"));
  }

  // best.json is a subnet of the space, at the stage's bits, within the budget.
  const space::Subnet best = space_->parse(util::read_json(dir + "/best.json"), "best.json");
  EXPECT_LE(macs(best), limit);
  for (const auto& q : best.quant) EXPECT_EQ(q.weight_bits, 4);

  const util::Json s = util::read_json(dir + "/search.json");
  EXPECT_EQ(s["accuracy_dataset"]["subnets"], 12);
  EXPECT_EQ(s["random_search"]["scored"], s["search"]["scored"]) << "random search gets as many evaluations";
  // The chosen subnet is the best of the measured top candidates on validation, not on test.
  double best_val = -1;
  for (const auto& m : s["top"]) best_val = std::max(best_val, m["val_top1"].get<double>());
  EXPECT_DOUBLE_EQ(s["best"]["val_top1"].get<double>(), best_val);
  for (const auto& m : s["top"]) EXPECT_LE(m["costs"]["macs"].get<double>(), limit);
  std::string best_ranking;
  double best_tau = -2;
  for (const char* enc : {"arch", "quant", "cond"}) {
    EXPECT_TRUE(s["predictors"][enc].contains("kendall_tau"));
    EXPECT_GT(s["predictors"][enc]["held_out_pairs"].get<int>(), 0);
    if (s["predictors"][enc]["kendall_tau"].get<double>() > best_tau)
      best_tau = s["predictors"][enc]["kendall_tau"].get<double>(), best_ranking = enc;
  }
  // By default the predictor with the best held-out Kendall tau drives the search.
  EXPECT_EQ(s["predictor_choice"], "auto");
  EXPECT_EQ(s["predictor_used"], best_ranking);
  // The front is sorted by cost with rising predicted accuracy.
  const util::Json p = util::read_json(dir + "/pareto.json");
  ASSERT_FALSE(p["front"].empty());
  for (size_t i = 1; i < p["front"].size(); ++i) {
    EXPECT_LT(p["front"][i - 1]["cost"].get<double>(), p["front"][i]["cost"].get<double>());
    EXPECT_LT(p["front"][i - 1]["predicted_top1"].get<double>(),
              p["front"][i]["predicted_top1"].get<double>());
  }
  std::ifstream csv(dir + "/pareto.csv");
  size_t lines = 0;
  for (std::string line; std::getline(csv, line);) ++lines;
  EXPECT_EQ(lines, p["front"].size() + 1);

  // A second search reuses every measurement of the accuracy dataset.
  out.clear();
  ASSERT_EQ(
      test::run_command(std::string(OQA_BINARY) + " --threads 1 search --run " + run_ +
                            " --stage w4a4 --samples 12 --population 8 --generations 2 --top 1 --no-plot",
                        out),
      0)
      << out;
  EXPECT_NE(out.find("all 12 subnets already measured"), std::string::npos) << out;
}

TEST_F(SearchCli, ImpossibleBudgetFailsNamingTheSmallestAchievableValue) {
  const double lo = macs(space_->smallest());
  std::string out;
  EXPECT_EQ(search("--budget macs=" + std::to_string(static_cast<long long>(lo / 2)), out), 2) << out;
  EXPECT_NE(out.find("smallest achievable macs at stage w4a4 is " + search::format_scaled(lo)),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("accuracy dataset"), std::string::npos) << "fails before measuring anything";
}

TEST_F(SearchCli, BadBudgetsAreOneClearLine) {
  std::string out;
  EXPECT_EQ(search("--budget latency=2", out), 2) << out;
  EXPECT_NE(out.find("--latency-table"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(search("--budget flops=3M", out), 2) << out;
  EXPECT_NE(out.find("unknown cost metric 'flops'"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(search("--budget macs=lots", out), 2) << out;
  EXPECT_NE(out.find("lots"), std::string::npos) << out;
}

TEST_F(SearchCli, EverySubnetReturnedHonoursTheHardwareProfile) {
  std::string out;
  const std::string profile = R"({"weight_bits": [2, 3], "act_bits": 3})";
  ASSERT_EQ(search("--no-plot --profile '" + profile + "'", out, "mixed"), 0) << out;
  const std::string dir = run_ + "/search/mixed";
  const util::Json s = util::read_json(dir + "/search.json");
  EXPECT_EQ(s["profile"], nlohmann::json::parse(R"({"weight_bits": [2, 3], "act_bits": [3]})"));
  std::vector<util::Json> subnets = {util::read_json(dir + "/best.json"), s["best"]["subnet"],
                                     s["random_search"]["best"]["subnet"]};
  for (const auto* list : {&s["top"], &s["anchors"]})
    for (const auto& m : *list) subnets.push_back(m["subnet"]);
  EXPECT_EQ(s["anchors"].size(), 1u) << "the uniform w3a3 anchor: " << s["anchors"].dump();
  for (const auto& m : util::read_json(dir + "/pareto.json")["front"]) subnets.push_back(m["subnet"]);
  std::set<int> weight_bits;
  for (const auto& j : subnets) {
    const space::Subnet sub = space_->parse(j, "returned subnet");
    for (const auto& q : sub.quant) {
      EXPECT_TRUE(q.weight_bits == 2 || q.weight_bits == 3) << j.dump();
      EXPECT_EQ(q.act_bits, 3) << j.dump();
      weight_bits.insert(q.weight_bits);
    }
  }
  EXPECT_EQ(weight_bits.size(), 2u) << "both allowed weight bit-widths appear";
}

TEST_F(SearchCli, AProfileNoSubnetOfTheStageMeetsFailsAtOnce) {
  std::string out;
  EXPECT_EQ(search("--profile '{\"weight_bits\": 2}'", out), 2) << out;
  EXPECT_NE(out.find("stage w4a4 fixes it at 4"), std::string::npos) << out;
  EXPECT_EQ(out.find("accuracy dataset"), std::string::npos) << "fails before measuring anything";
  out.clear();
  EXPECT_EQ(search("--profile '{\"act_bits\": 8}'", out), 2) << out;
  EXPECT_NE(out.find("profile.act_bits"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(search("--profile '{\"act_bitz\": 8}'", out), 3) << out;
  EXPECT_NE(out.find("did you mean 'act_bits'"), std::string::npos) << out;
}

TEST_F(SearchCli, AMixedSearchMeasuresItsUniformAnchorsAndReturnsTheBestOnValidation) {
  std::string out;
  const std::string dir = (dir_->path / "anchors").string();
  ASSERT_EQ(search("--no-plot --budget bits=3 --out " + dir, out, "mixed"), 0) << out;
  const util::Json s = util::read_json(dir + "/search.json");
  ASSERT_EQ(s["anchors"].size(), 1u) << s["anchors"].dump();
  const util::Json& anchor = s["anchors"][0];
  EXPECT_TRUE(anchor["uniform_anchor"].get<bool>());
  EXPECT_EQ(anchor["subnet"], space::to_json(space_->with_quant(space_->largest(), "w3a3")));
  EXPECT_LE(anchor["costs"]["wbits"].get<double>(), 3.0);
  // The winner is the best on validation of the searched candidates and the anchor.
  double best_val = anchor["val_top1"];
  for (const auto& m : s["top"]) best_val = std::max(best_val, m["val_top1"].get<double>());
  EXPECT_EQ(s["best"]["val_top1"].get<double>(), best_val);
  EXPECT_EQ(util::read_json(dir + "/best.json"), s["best"]["subnet"]);
  EXPECT_EQ(s["best"].contains("uniform_anchor"),
            s["best"]["hash"] == anchor["hash"] &&
                anchor["val_top1"].get<double>() > s["top"][0]["val_top1"].get<double>());
  EXPECT_NE(out.find(s["best"].contains("uniform_anchor") ? "chosen (uniform anchor)" : "uniform anchor"),
            std::string::npos)
      << out;
}

TEST_F(SearchCli, NoAnchorsMeasuresOnlyTheSearchedCandidates) {
  std::string out;
  const std::string dir = (dir_->path / "no-anchors").string();
  ASSERT_EQ(search("--no-plot --budget bits=3 --no-anchors --out " + dir, out, "mixed"), 0) << out;
  const util::Json s = util::read_json(dir + "/search.json");
  EXPECT_TRUE(s["anchors"].empty());
  EXPECT_EQ(s["best"], s["top"][0]);
}
