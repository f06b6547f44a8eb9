// Crash safety through the CLI: `oqa train` killed with SIGKILL at random moments and resumed until it
// finishes; every checkpoint loads, metrics stay finite; `oqa eval` and `oqa plot` read the finished run.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <thread>

#include "supernet_test_support.h"

extern char** environ;

using namespace oqa;

namespace {

// Starts OQA_BINARY with args, stdout appended to log and stderr to err (default: log).
pid_t spawn_oqa(const std::vector<std::string>& args, const std::string& log, const std::string& err = "") {
  std::vector<std::string> all = {OQA_BINARY, "--threads", "1", "--quiet"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (err.empty())
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  else
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, OQA_BINARY, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) ADD_FAILURE() << "cannot start " << OQA_BINARY;
  return pid;
}

// Runs to the end; returns the exit status and appends output to log.
int run_oqa(const std::vector<std::string>& args, const std::string& log, const std::string& err = "") {
  int status = 0;
  waitpid(spawn_oqa(args, log, err), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool all_numbers_finite(const nlohmann::json& j) {
  if (j.is_number_float()) return std::isfinite(j.get<double>());
  if (j.is_structured())
    for (const auto& v : j)
      if (!all_numbers_finite(v)) return false;
  return true;
}

}  // namespace

TEST(KillResume, SigkillAtRandomMomentsThenResumeFinishesWithLoadableCheckpoints) {
  TestDir dir;
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"] = nlohmann::json::parse(R"([
      {"quant": "float", "epochs": 2, "lr": 0.05}, {"quant": "w4a4", "epochs": 2, "lr": 0.02},
      {"quant": "w3a3", "epochs": 1, "lr": 0.01}])");
  config["train"]["checkpoint_every"] = 2;
  const std::string config_path = (dir.path / "config.json").string();
  util::write_json(config_path, config);
  const std::string run = (dir.path / "run").string(), log = (dir.path / "log.txt").string();

  // Random moments measured in training progress, not wall time (a fast machine finishes the whole run in
  // about a second): each attempt is killed 0-40 ms after metrics.jsonl has grown by 1-4 more lines.
  auto metric_lines = [&] {
    std::ifstream in(run + "/metrics.jsonl");
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
  };
  std::mt19937 rng(20240611);  // reproducible
  std::uniform_int_distribution<int> lines_ahead(1, 4), jitter_ms(0, 40);
  int kills = 0, exit_code = -1;
  for (int attempt = 0; attempt < 40 && exit_code != 0; ++attempt) {
    std::vector<std::string> args =
        attempt == 0 ? std::vector<std::string>{"train", "--config", config_path, "--out", run}
                     : std::vector<std::string>{"train", "--resume", run};
    if (attempt > 0 && !std::filesystem::exists(run + "/config.json"))  // killed before config.json
      args = {"train", "--config", config_path, "--out", run, "--force"};
    const int target = metric_lines() + lines_ahead(rng), jitter = jitter_ms(rng);
    const pid_t pid = spawn_oqa(args, log);
    // Five kills, then the run may finish; a slow start-up is killed after 120 s all the same.
    const bool kill_this = kills < 5;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kill_this ? 120 : 600);
    int status = 0;
    pid_t done = 0;
    while (std::chrono::steady_clock::now() < deadline && (done = waitpid(pid, &status, WNOHANG)) == 0) {
      if (kill_this && metric_lines() >= target) {
        std::this_thread::sleep_for(std::chrono::milliseconds(jitter));
        done = waitpid(pid, &status, WNOHANG);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (done == pid) {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      ASSERT_EQ(exit_code, 0) << read_text(log);
      break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++kills;
  }
  ASSERT_EQ(exit_code, 0) << "the run did not finish after " << kills << " kills\n" << read_text(log);
  RecordProperty("kills", kills);
  EXPECT_GE(kills, 3) << "the run was too quick to be killed several times";

  // Every checkpoint on disk loads into a fresh supernet; its weights are finite.
  int checkpoints = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(run)) {
    if (f.path().extension() != ".pt") continue;
    auto net = test::load_supernet(config, f.path().string());
    for (const auto& p : net->parameters()) EXPECT_TRUE(torch::isfinite(p).all().item<bool>()) << f.path();
    ++checkpoints;
  }
  EXPECT_EQ(checkpoints, 3);
  // No temporary files left next to the checkpoints are mistaken for them; metrics are finite numbers.
  std::ifstream metrics(run + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line); ++lines)
    EXPECT_TRUE(all_numbers_finite(nlohmann::json::parse(line))) << line;
  EXPECT_GT(lines, 10);
  const auto summary = util::read_json(run + "/summary.json");
  ASSERT_EQ(summary["stages"].size(), 3u);

  // `oqa eval` recalibrates BN on the same images and measures the same top-1 as the pipeline did.
  const std::string eval_out = (dir.path / "eval.json").string();
  const std::string eval_err = (dir.path / "eval.err").string();
  ASSERT_EQ(run_oqa({"eval", "--run", run, "--stage", "w3a3", "--subnet", "smallest", "--json"}, eval_out,
                    eval_err),
            0)
      << read_text(eval_err);
  const auto j = nlohmann::json::parse(read_text(eval_out));
  EXPECT_NEAR(j["top1"].get<double>(), summary["stages"][2]["smallest"]["test_top1"].get<double>(), 1e-9);
  EXPECT_GT(j["cost"]["bitops"].get<double>(), 0);

  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    ASSERT_EQ(run_oqa({"plot", run}, (dir.path / "plot.txt").string()), 0)
        << read_text((dir.path / "plot.txt").string());
    for (const char* png : {"loss.png", "accuracy.png", "lr.png", "throughput.png"})
      EXPECT_GT(std::filesystem::file_size(run + "/plots/" + png), 1000u) << png;
  }
}
