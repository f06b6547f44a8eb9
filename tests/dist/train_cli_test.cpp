// `oqa train --nproc 2`: the supernet pipeline as two Gloo ranks, rank 0 alone writing the run, and a run
// stopped mid-stage resumed by another number of processes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "train_supernet/supernet_test_support.h"
#include "util/run_command.h"
#include "util/test_dir.h"

namespace oqa {
namespace {

namespace fs = std::filesystem;

std::string write_config(const fs::path& dir) {
  const std::string path = (dir / "tiny.json").string();
  std::ofstream(path) << test::tiny_config().dump(2);
  return path;
}

// Every (stage, step, event) record of metrics.jsonl appears once.
void expect_records_once(const fs::path& metrics) {
  std::ifstream in(metrics);
  std::string line;
  std::set<std::string> seen;
  int n = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const std::string key =
        j.value("stage", "") + "/" + std::to_string(j.value("step", -1)) + "/" + j.value("event", "");
    EXPECT_TRUE(seen.insert(key).second) << "twice: " << line;
    ++n;
  }
  EXPECT_GT(n, 10);
}

TEST(TrainCli, TwoLocalRanksTrainTheSupernetAndRankZeroAloneWritesTheRun) {
  TestDir dir;
  const std::string config = write_config(dir.path), run = (dir.path / "run").string();
  std::string out;
  const int code = test::run_command(
      std::string(OQA_BINARY) + " train --config " + config + " --out " + run + " --nproc 2", out);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("data-parallel training: 2 ranks"), std::string::npos) << out;
  EXPECT_EQ(out.find("oqa: error"), std::string::npos) << out;
  const auto summary = nlohmann::json::parse(std::ifstream(run + "/summary.json"));
  ASSERT_EQ(summary["stages"].size(), 2u);
  EXPECT_GT(summary["stages"][1]["largest"]["test_top1"].get<double>(), 20.0)
      << summary.dump();  // chance 10%
  EXPECT_TRUE(fs::exists(run + "/.oqa-run"));
  expect_records_once(run + "/metrics.jsonl");
  // No rank left temporary files behind.
  for (const auto& f : fs::recursive_directory_iterator(run))
    EXPECT_EQ(f.path().string().find(".tmp."), std::string::npos) << f.path();
}

// A NaN injected at step 5 (in the float stage, after its first checkpoint at step 4) stops both ranks (exit
// 4, weights untouched); the run then resumes in one process from the last checkpoint and finishes.
TEST(TrainCli, ADataParallelRunStoppedMidStageResumesInOneProcess) {
  TestDir dir;
  const std::string config = write_config(dir.path), run = (dir.path / "run").string();
  std::string out;
  int code = test::run_command("OQA_DEBUG_NAN_AT_STEP=5 " + std::string(OQA_BINARY) + " train --config " +
                                   config + " --out " + run + " --nproc 2",
                               out);
  ASSERT_EQ(code, 4) << out;
  EXPECT_NE(out.find("loss is nan at step 5"), std::string::npos) << out;
  EXPECT_NE(out.find("of 2 exited with code 4"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(run + "/float/checkpoints/last.pt"));
  EXPECT_FALSE(fs::exists(run + "/summary.json"));
  code = test::run_command(std::string(OQA_BINARY) + " train --resume " + run, out);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("(epoch 1, batch 4, step 4)"), std::string::npos) << out;  // the checkpoint at step 4
  EXPECT_TRUE(fs::exists(run + "/summary.json"));
  expect_records_once(run + "/metrics.jsonl");
}

// The other way round: a one-process run stopped at step 5 resumes as two ranks at step 4 and finishes.
TEST(TrainCli, AOneProcessRunStoppedMidStageResumesAsTwoRanks) {
  TestDir dir;
  const std::string config = write_config(dir.path), run = (dir.path / "run").string();
  std::string out;
  int code = test::run_command(
      "OQA_DEBUG_NAN_AT_STEP=5 " + std::string(OQA_BINARY) + " train --config " + config + " --out " + run,
      out);
  ASSERT_EQ(code, 4) << out;
  code = test::run_command(std::string(OQA_BINARY) + " train --resume " + run + " --nproc 2", out);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("(epoch 1, batch 4, step 4)"), std::string::npos) << out;
  EXPECT_NE(out.find("data-parallel training: 2 ranks"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(run + "/summary.json"));
  expect_records_once(run + "/metrics.jsonl");
}

}  // namespace
}  // namespace oqa
