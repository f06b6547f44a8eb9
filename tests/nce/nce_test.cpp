// Neural channel expansion: interpolation against torch's, the cost model against cost::count, the cost
// loss from both sides, expansion at the threshold and the cap, a whole search's budget and its refusals.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "oqa/cost/cost.h"
#include "oqa/nce/arch_params.h"
#include "oqa/nce/candidates.h"
#include "oqa/nce/channel_mix.h"
#include "oqa/nce/expected_cost.h"
#include "oqa/nce/nce_search.h"
#include "oqa/pipeline/run_config.h"
#include "oqa/space/make_space.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"
#include "util/run_command.h"

namespace fs = std::filesystem;
using namespace oqa;

namespace {

const char* kSpace = R"({
  "kind": "resnet", "input_channels": 1, "classes": 4, "resolutions": [12],
  "stem": {"channels": 8},
  "stages": [{"channels": 8, "blocks": 1, "stride": 1}, {"channels": 16, "blocks": 1, "stride": 2}],
  "width_multipliers": [0.5, 0.75, 1.0],
  "quant": {"weight_bits": [2], "act_bits": [2]},
  "precision": {"stem": "w8a8", "classifier": "w8a8"}
})";

nlohmann::json run_config(const std::string& space = kSpace) {
  return {{"name", "nce-tiny"},
          {"seed", 3},
          {"data",
           {{"dataset", "synthetic"},
            {"synthetic_train", 320},
            {"synthetic_test", 64},
            {"synthetic_classes", 4},
            {"image_size", 12},
            {"channels", 1},
            {"val_fraction", 0.25},
            {"batch_size", 32},
            {"workers", 0}}},
          {"space", nlohmann::json::parse(space)},
          {"nce", {{"epochs", 3}, {"warmup_epochs", 1}, {"log_every", 5}}},
          {"train", {{"checkpoint_every", 4}, {"log_every", 5}}}};
}

// The tiny run config read as `oqa nce` reads it, with this budget.
std::pair<nce::NceOptions, train::Experiment> tiny_search(const std::string& budget) {
  util::Config config = util::Config::from_json(run_config(), "nce-tiny.json");
  config.set("nce.budget=" + budget);
  nce::NceOptions o = nce::read_nce_options(config.root().child("nce"));
  return {o, pipeline::read_run_config(config).experiment};
}

std::shared_ptr<const space::ResNetSpace> resnet(const std::string& json = kSpace) {
  auto config = util::Config::from_json(util::Json::parse(json), "tiny.json");
  auto s = std::dynamic_pointer_cast<const space::ResNetSpace>(space::make_space(config.root()));
  EXPECT_TRUE(s != nullptr);
  return s;
}

// The JSON object a command printed amid its log lines (stdout and stderr together).
nlohmann::json json_in(const std::string& out) {
  const size_t from = out.find("{\n"), to = out.rfind("\n}");
  EXPECT_TRUE(from != std::string::npos && to != std::string::npos && to > from) << out;
  return nlohmann::json::parse(out.substr(from, to + 2 - from));
}

struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("oqa-nce-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(ChannelMix, InterpolationMatrixEqualsTorchLinearInterpolationAlongChannels) {
  torch::manual_seed(0);
  for (auto [from, to] : {std::pair<int64_t, int64_t>{3, 8}, {8, 8}, {5, 12}, {12, 16}}) {
    const torch::Tensor y = torch::randn({2, from, 3, 4});
    const torch::Tensor rows = y.flatten(2).permute({0, 2, 1}).reshape({-1, 1, from});
    namespace F = torch::nn::functional;
    const torch::Tensor ref = F::interpolate(rows, F::InterpolateFuncOptions()
                                                       .size(std::vector<int64_t>{to})
                                                       .mode(torch::kLinear)
                                                       .align_corners(false))
                                  .reshape({2, 12, to})
                                  .permute({0, 2, 1})
                                  .reshape({2, to, 3, 4});
    const torch::Tensor got = nce::apply_channel_matrix(y, nce::interpolation_matrix(from, to));
    EXPECT_LT((got - ref).abs().max().item<double>(), 1e-5) << from << " -> " << to;
  }
}

TEST(ChannelMix, PaddingKeepsTheFirstChannelsAndZerosTheRest) {
  const torch::Tensor y = torch::randn({2, 8, 3, 3});
  const auto m = nce::candidate_matrices({4, 8}, 8, "pad");
  const torch::Tensor narrow = nce::apply_channel_matrix(y, m[0]);
  EXPECT_TRUE(torch::equal(narrow.narrow(1, 0, 4), y.narrow(1, 0, 4)));
  EXPECT_EQ(narrow.narrow(1, 4, 4).abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(nce::apply_channel_matrix(y, m[1]), y));
}

TEST(NceCandidates, ExpansionsGrowByTheStepUpToTheCapAndNoFurther) {
  nce::NceOptions o;
  o.cap = 2.0;
  o.expand_step = 0.25;
  const auto plan = nce::plan_candidates(*resnet(), o);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan[0].widths, (std::vector<int64_t>{4, 6, 8, 10, 12, 14, 16}));
  EXPECT_EQ(plan[0].initial, 3u);
  for (const auto& c : plan) EXPECT_LE(c.widths.back(), 2 * c.base);
  o.cap = 1.0;
  nce::NceOptions one = o;
  const char* fixed = R"({"kind": "resnet", "input_channels": 1, "classes": 4, "resolutions": [12],
    "stages": [{"channels": 8, "blocks": 1}], "width_multipliers": [1.0], "quant": {"weight_bits": [2], "act_bits": [2]}})";
  EXPECT_THROW(nce::plan_candidates(*resnet(fixed), one), util::Error);
}

TEST(ExpectedCost, EqualsTheCostModelAtEveryWidthAndOnOneHotExpectations) {
  nce::NceOptions o;
  const auto plan = nce::plan_candidates(*resnet(), o);
  const auto space = nce::expanded_space(*resnet(), plan);
  std::mt19937_64 rng(5);
  for (auto metric : {nce::CostMetric::kMacs, nce::CostMetric::kParams}) {
    const nce::ExpectedCost cost(*space, metric);
    for (int trial = 0; trial < 20; ++trial) {
      space::Subnet s = space->sample(rng);
      const cost::CostSummary ref = cost::count(*space, s);
      const double want = metric == nce::CostMetric::kMacs ? ref.macs : ref.params;
      EXPECT_NEAR(cost.at(s.widths), want, 1e-6 * want);
      std::vector<double> w(s.widths.begin(), s.widths.end());
      EXPECT_NEAR(cost.expected(torch::tensor(w, torch::kDouble)).item<double>(), want, 1e-6 * want);
    }
  }
}

// Only the cost loss moves the logits: from the widest candidates (above the budget) and from the narrowest
// (below it), the expected MACs end within the tolerance of the target.
TEST(CostLoss, DrivesTheExpectedCostToTheBudgetFromAboveAndFromBelow) {
  nce::NceOptions o;
  const auto plan = nce::plan_candidates(*resnet(), o);
  const auto space = nce::expanded_space(*resnet(), plan);
  const nce::ExpectedCost cost(*space, nce::CostMetric::kMacs);
  const double target = cost.at(nce::base_widths(plan));
  std::vector<int64_t> totals, initial;
  for (const auto& c : plan)
    totals.push_back(static_cast<int64_t>(c.widths.size())), initial.push_back(totals.back());
  for (double start : {+3.0, -3.0}) {
    nce::ArchParams arch(totals, initial);
    torch::Tensor table = torch::zeros_like(arch->alpha);
    {
      torch::NoGradGuard g;
      for (size_t i = 0; i < plan.size(); ++i)
        for (size_t j = 0; j < plan[i].widths.size(); ++j) {
          table[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = static_cast<double>(plan[i].widths[j]);
          arch->alpha[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = start * static_cast<double>(j);
        }
    }
    auto expected = [&] { return cost.expected((arch->probabilities() * table).sum(1)); };
    const double before = expected().item<double>() / target;
    EXPECT_TRUE(start > 0 ? before > 1.3 : before < 0.7) << before;
    for (int step = 0; step < 400; ++step) {
      const torch::Tensor loss = nce::cost_loss(expected(), target, 0.05);
      if (loss.item<double>() == 0) break;
      arch->adam_step(torch::autograd::grad({loss}, {arch->alpha})[0], 0.05, 0);
    }
    const double after = expected().item<double>() / target;
    EXPECT_GT(after, 1 / 1.05 - 1e-3) << "from " << before;
    EXPECT_LT(after, 1.05 + 1e-3) << "from " << before;
  }
}

TEST(ArchParams, ExpandsExactlyWhenTheWidestPassesTheThresholdAndNeverPastTheTotal) {
  nce::ArchParams arch(std::vector<int64_t>{5, 3}, std::vector<int64_t>{2, 3});
  auto set_widest_prob = [&](double p) {  // group 0: two active logits with softmax (1 - p, p)
    torch::NoGradGuard g;
    arch->alpha[0][0] = 0.0;
    arch->alpha[0][1] = std::log(p / (1 - p));
  };
  set_widest_prob(0.49);
  EXPECT_TRUE(arch->expand(0.5, 1).empty());
  EXPECT_EQ(arch->active(0), 2);
  set_widest_prob(0.51);
  const auto x = arch->expand(0.5, 2);
  ASSERT_EQ(x.size(), 1u);  // group 1 is at its total although its widest has 1/3
  EXPECT_EQ(x[0].group, 0u);
  EXPECT_EQ(x[0].from, 2);
  EXPECT_EQ(x[0].to, 4);
  EXPECT_EQ(arch->active(0), 4);
  EXPECT_FLOAT_EQ(arch->alpha[0][2].item<float>(), arch->alpha[0][1].item<float>());
  EXPECT_FLOAT_EQ(arch->alpha[0][3].item<float>(), arch->alpha[0][1].item<float>());
  for (int i = 0; i < 5; ++i) {  // push the widest up again and again: stops at 5 of 5
    {
      torch::NoGradGuard g;
      arch->alpha[0].narrow(0, 0, arch->active(0) - 1).fill_(-10);
    }
    arch->expand(0.5, 2);
  }
  EXPECT_EQ(arch->active(0), 5);
  EXPECT_EQ(arch->active(1), 3);
  const torch::Tensor p = arch->probabilities();
  EXPECT_NEAR(p[1].sum().item<double>(), 1.0, 1e-6);
}

TEST(ArchParams, GumbelSamplePicksTwoActiveCandidatesWithWeightsThatCarryTheGradient) {
  nce::ArchParams arch(std::vector<int64_t>{4}, std::vector<int64_t>{3});
  torch::Generator gen = at::detail::createCPUGenerator(7);
  const auto s = arch->sample(1.0, gen);
  ASSERT_EQ(s[0].index.size(), 2u);
  for (int64_t i : s[0].index) EXPECT_LT(i, 3);
  EXPECT_NE(s[0].index[0], s[0].index[1]);
  EXPECT_NEAR(s[0].weights.sum().item<double>(), 1.0, 1e-6);
  const torch::Tensor g = torch::autograd::grad({s[0].weights[0]}, {arch->alpha})[0];
  EXPECT_GT(g.abs().sum().item<double>(), 0);
  EXPECT_EQ(g[0][3].item<float>(), 0.0f);  // not active: no gradient
}

// A whole search on synthetic images: the found architecture is within the budget counted by cost::count
// on the space of the run's config.json, and a killed-and-resumed search (the checkpoint) finishes alike.
TEST(NceSearch, FoundArchitectureMeetsTheBudgetByTheCostModelOfTheRunsConfig) {
  TempDir dir;
  const auto [o, e] = tiny_search("macs=0.8M");
  const nlohmann::json r = nce::run_nce(e, o, dir.path.string());
  EXPECT_LE(r["found"]["cost"].get<double>(), 0.8e6);
  auto space = space::space_from_config_file((dir.path / "config.json").string());
  const space::Subnet found = space->parse(util::read_json((dir.path / "found.json").string()), "found.json");
  EXPECT_NEAR(cost::count(*space, found).macs, r["found"]["cost"].get<double>(), 1e-6);
  EXPECT_LE(cost::count(*space, found).macs, 0.8e6);
  const space::Subnet base = space->parse(util::read_json((dir.path / "base.json").string()), "base.json");
  EXPECT_EQ(base.widths, r["base"]["widths"].get<std::vector<int64_t>>());
  EXPECT_TRUE(fs::exists(dir.path / "nce" / "checkpoints" / "last.pt"));
  // Resuming the finished search gives the same architecture.
  const nlohmann::json again = nce::run_nce(e, o, dir.path.string());
  EXPECT_EQ(again["found"]["widths"], r["found"]["widths"]);
}

// The found architecture retrained at 2 bits (`oqa train --run RUN --subnet found.json`) is a stage like any
// other: `oqa eval` gives the retrain's own test top-1 and the cost of the search's result, and `oqa export`
// writes a model whose integer runtime agrees with fake quantization.
TEST(NceSearch, RetrainedFoundArchitectureEvaluatesAndExportsLikeAnyStage) {
  TempDir dir;
  const auto [o, e] = tiny_search("macs=0.8M");
  const nlohmann::json r = nce::run_nce(e, o, dir.path.string());
  const std::string oqa = std::string(OQA_BINARY) + " --threads 1 --quiet ";
  const std::string run = dir.path.string(), found = (dir.path / "found.json").string();
  std::string out;
  auto run_oqa = [&](const std::string& args) {
    out.clear();
    return test::run_command(oqa + args, out);
  };
  ASSERT_EQ(
      run_oqa("train --run " + run + " --subnet " + found + " --bits 2 --from-scratch --epochs 1 --lr 0.05"),
      0)
      << out;
  const std::string stage = "retrain/found-w2a2-e1-lr0.05-scratch";
  const nlohmann::json retrained = util::read_json(run + "/" + stage + "/result.json");
  ASSERT_EQ(run_oqa("eval --run " + run + " --stage " + stage + " --subnet " + found + " --json"), 0) << out;
  const nlohmann::json ev = json_in(out);
  EXPECT_NEAR(ev.at("top1").get<double>(), retrained.at("test_top1").get<double>(), 1e-6);
  EXPECT_NEAR(ev.at("cost").at("macs").get<double>(), r["found"]["cost"].get<double>(), 1e-6);
  const std::string model = (dir.path / "export").string();
  ASSERT_EQ(run_oqa("export --run " + run + " --stage " + stage + " --subnet " + found +
                    " --format oqa --out " + model),
            0)
      << out;
  ASSERT_EQ(run_oqa("infer " + model + "/model.oqa --reference --json"), 0) << out;
  const nlohmann::json inf = json_in(out);
  EXPECT_GE(inf.at("integer").at("argmax_agreement").get<double>(), 98.0) << out;
}

TEST(NceSearch, RefusesABudgetBelowTheNarrowestWidthsAndAnMbv3Space) {
  TempDir dir;
  const auto [o, e] = tiny_search("macs=1K");
  try {
    nce::run_nce(e, o, dir.path.string());
    FAIL() << "a budget under the narrowest cost was accepted";
  } catch (const util::Error& err) {
    EXPECT_EQ(err.kind(), util::ErrorKind::kUsage);
    EXPECT_NE(std::string(err.what()).find("nce.budget"), std::string::npos) << err.what();
    EXPECT_NE(std::string(err.what()).find("smallest reachable"), std::string::npos) << err.what();
  }
  EXPECT_FALSE(fs::exists(dir.path / "nce"));
  std::string out;
  const int rc =
      test::run_command(std::string(OQA_BINARY) + " --threads 1 nce --config " + std::string(OQA_SOURCE_DIR) +
                            "/configs/fashion-mnist-quickstart.json --out " + (dir.path / "run").string(),
                        out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("space.kind"), std::string::npos) << out;
}
