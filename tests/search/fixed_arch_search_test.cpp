// `oqa search` on a fixed-architecture space (EQ-Net's setting): the architecture encoding has no inputs, so
// its predictor is skipped and reported, and asking for it is a clear usage error.
#include <gtest/gtest.h>

#include "train_supernet/supernet_test_support.h"
#include "util/run_command.h"
#include "util/test_dir.h"

using namespace oqa;

TEST(FixedArchSearch, SkipsTheArchitecturePredictorAndRefusesARequestForIt) {
  TestDir dir;
  nlohmann::json config = test::tiny_forms_config();
  config["space"]["kernel"] = {3};
  config["space"]["expand"] = {2};
  config["space"]["depth"] = {2};
  config["supernet"]["stages"] = nlohmann::json::parse(
      R"([{"quant": "float", "epochs": 1, "lr": 0.05}, {"quant": "mixed", "epochs": 0.5, "lr": 0.02}])");
  const std::string run = (dir.path / "run").string();
  test::run_pipeline(config, run);
  const std::string search = std::string(OQA_BINARY) + " --threads 1 --quiet search --run " + run +
                             " --stage mixed --samples 12 --population 8 --generations 4 --top 2 --no-plot";
  std::string out;
  ASSERT_EQ(test::run_command(search + " --json", out), 0) << out;
  const util::Json s = util::read_json(run + "/search/mixed/search.json");
  EXPECT_TRUE(s["predictors"]["arch"].contains("skipped")) << s["predictors"].dump();
  EXPECT_TRUE(s["predictors"]["quant"].contains("kendall_tau")) << s["predictors"].dump();
  EXPECT_NE(s["predictor_used"], "arch");
  out.clear();
  EXPECT_EQ(test::run_command(search + " --predictor arch", out), 2) << out;
  EXPECT_NE(out.find("predictor encoding arch has no inputs"), std::string::npos) << out;
  EXPECT_NE(out.find("search.predictor.encoding"), std::string::npos) << out;
}
