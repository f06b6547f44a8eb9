// Data-parallel training on Gloo: ranks stay identical and equal one process with the same global batch;
// a dead or hung rank stops the others within the timeout with one clear error.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "oqa/data/synthetic.h"
#include "oqa/dist/group.h"
#include "oqa/dist/launch.h"
#include "oqa/train/loop.h"
#include "oqa/train/optimizer.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "util/run_command.h"
#include "util/test_dir.h"

namespace oqa {
namespace {

namespace fs = std::filesystem;

// A small conv net without batch norm: its gradient over a batch is the mean of its shards' gradients
// exactly (up to float rounding), so a data-parallel run can equal a single process.
struct NetImpl : torch::nn::Module {
  NetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(6, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return fc->forward(torch::relu(conv->forward(x)).mean({2, 3}));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(Net);

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// Trains Net for 2 epochs (batch 24 of 100 synthetic images, SGD with momentum, augmentation on) as this
// process's rank; saves its parameters and momentum buffers to <out>/rank<R>.pt. Hooks: OQA_DIST_TEST_DIE_AT
// (this rank exits at that step), OQA_DIST_TEST_HANG_AT (sleeps there), on the rank
// OQA_DIST_TEST_FAULTY_RANK.
void train_as_rank(const std::string& out) {
  const dist::WorldInfo world = dist::world_from_env();
  dist::init(world, std::chrono::milliseconds(std::atoll(env_or("OQA_DIST_TEST_TIMEOUT_MS", "20000"))));
  if (!dist::is_main()) util::set_file_writes(false);
  const bool faulty = std::atoi(env_or("OQA_DIST_TEST_FAULTY_RANK", "-1")) == dist::rank();
  const int64_t die_at = faulty ? std::atoll(env_or("OQA_DIST_TEST_DIE_AT", "-1")) : -1;
  const int64_t hang_at = faulty ? std::atoll(env_or("OQA_DIST_TEST_HANG_AT", "-1")) : -1;

  torch::manual_seed(static_cast<int64_t>(5 + dist::rank()));  // different on each rank: rank 0's weights win
  Net net;
  train::OptimizerOptions oo;
  oo.lr = 0.2;
  auto opt = train::make_optimizer(*net, oo);
  data::LoaderOptions lo;
  lo.batch_size = 24;
  lo.drop_last = false;  // 100 = 4 x 24 + 4: the last batch is split too
  lo.workers = 1;
  lo.seed = 11;
  lo.transform.mean = {0.5f};
  lo.transform.std = {0.25f};
  lo.transform.pad_crop = 1;
  lo.transform.hflip = true;
  data::Loader loader(data::make_synthetic(100, {1, 8, 8}, 3, 5), train::this_rank_shard(lo));
  train::ScheduleOptions so;
  so.base_lr = 0.2;
  so.total_steps = 2 * loader.batches_per_epoch();
  train::StageOptions st;
  st.stage = "float";
  st.dir = out + "/run/float";
  st.config_hash = "h";
  st.epochs = 2;
  st.checkpoint_every = 3;
  st.log_every = 2;
  train::MetricsLog metrics(out + "/run/metrics.jsonl");
  train::TrainLoop loop(st, *net, *opt, train::CosineSchedule(so), loader, metrics);
  loop.run(
      [&](const data::Batch& b, int64_t step) {
        if (step == die_at) std::_Exit(9);
        if (step == hang_at) std::this_thread::sleep_for(std::chrono::seconds(600));
        auto loss = torch::nn::functional::cross_entropy(net->forward(b.images), b.labels);
        loss.backward();
        return train::StepResult{loss.item<double>(), {}};
      },
      nullptr);
  std::vector<torch::Tensor> state;
  for (auto& p : net->parameters()) state.push_back(p.detach().clone());
  for (auto& p : opt->param_groups().at(0).params()) {
    auto& s = opt->state().at(c10::guts::to_string(p.unsafeGetTensorImpl()));
    state.push_back(static_cast<torch::optim::SGDParamState&>(*s).momentum_buffer().clone());
  }
  torch::save(state, fmt::format("{}/rank{}.pt", out, dist::rank()));
}

// Not a test of its own: the body of one rank, started by the tests below (skipped when run directly).
TEST(DataParallelRank, Train) {
  const char* out = std::getenv("OQA_DIST_TEST_OUT");
  if (!out) GTEST_SKIP() << "runs only as a rank started by the DataParallel tests";
  try {
    train_as_rank(out);
  } catch (const util::Error& e) {
    std::ofstream(fmt::format("{}/rank{}.err", out, dist::rank())) << e.what();
    std::_Exit(e.exit_code());
  }
}

struct Ranks {
  std::vector<int> codes;
  std::string output;
  double seconds = 0;
};

// Runs `n` ranks of DataParallelRank.Train (or one plain process when n == 1) with `env` added.
Ranks run_ranks(const fs::path& out, int n, const std::string& env = "") {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const int port = dist::free_local_port();
  std::string cmd = "(";
  for (int r = 0; r < n; ++r) {
    const std::string world =
        n == 1 ? "" : fmt::format("RANK={} WORLD_SIZE={} MASTER_ADDR=127.0.0.1 MASTER_PORT={} ", r, n, port);
    cmd += fmt::format(
        "(env {}OQA_DIST_TEST_OUT={} {} OMP_NUM_THREADS=1 {} --gtest_filter=DataParallelRank.Train "
        ">{}/log{} 2>&1; echo $? >{}/code{}) & ",
        world, out.string(), env, self, out.string(), r, out.string(), r);
  }
  cmd += "wait)";
  Ranks result;
  const auto start = std::chrono::steady_clock::now();
  test::run_command(cmd, result.output);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int r = 0; r < n; ++r) {
    std::ifstream in(out / fmt::format("code{}", r));
    int code = -1;
    in >> code;
    result.codes.push_back(code);
  }
  return result;
}

std::vector<torch::Tensor> load_state(const fs::path& file) {
  std::vector<torch::Tensor> state;
  torch::load(state, file.string());
  return state;
}

double max_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  return worst;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Two ranks on 127.0.0.1: after 10 steps (momentum SGD, augmentation, a last batch of 4 split 2 + 2) both
// hold the same parameters and momentum, and they equal one process that trained on the whole batches.
TEST(DataParallel, TwoRanksEqualOneProcessWithTheSameGlobalBatch) {
  TestDir one, two;
  const Ranks single = run_ranks(one.path, 1);
  ASSERT_EQ(single.codes, std::vector<int>{0}) << single.output << slurp(one.path / "log0");
  const Ranks pair = run_ranks(two.path, 2);
  ASSERT_EQ(pair.codes, (std::vector<int>{0, 0})) << slurp(two.path / "log0") << slurp(two.path / "log1");

  const auto s0 = load_state(two.path / "rank0.pt"), s1 = load_state(two.path / "rank1.pt");
  const auto ref = load_state(one.path / "rank0.pt");
  EXPECT_EQ(max_difference(s0, s1), 0.0);  // all-reduced gradients are bitwise the same on every rank
  // Float sums in another order: the tolerance is that of float32 rounding over 10 steps.
  EXPECT_LT(max_difference(s0, ref), 1e-5);
  // Rank 0 alone wrote the run: one checkpoint, and a metrics log with each record once (as many as one
  // process writes; with two writers some would appear twice or cut).
  EXPECT_TRUE(fs::exists(two.path / "run/float/checkpoints/last.pt"));
  const auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
  const std::string metrics = slurp(two.path / "run/metrics.jsonl");
  EXPECT_GT(lines(metrics), 0);
  EXPECT_EQ(lines(metrics), lines(slurp(one.path / "run/metrics.jsonl")));
}

// A rank that dies at step 3: the other stops with exit code 5 and one line naming itself, well before the
// collective timeout would have run out, and its last checkpoint (step 3) stays loadable.
TEST(DataParallel, ADeadRankStopsTheOthersWithOneClearError) {
  TestDir dir;
  const Ranks r = run_ranks(dir.path, 2, "OQA_DIST_TEST_FAULTY_RANK=1 OQA_DIST_TEST_DIE_AT=4");
  ASSERT_EQ(r.codes.size(), 2u);
  EXPECT_EQ(r.codes[1], 9);
  EXPECT_EQ(r.codes[0], static_cast<int>(util::ErrorKind::kDistributed)) << slurp(dir.path / "log0");
  const std::string err = slurp(dir.path / "rank0.err");
  EXPECT_NE(err.find("rank 0 of 2: all-reduce failed"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_LT(r.seconds, 20.0);
  EXPECT_TRUE(fs::exists(dir.path / "run/float/checkpoints/last.pt"));
}

// A rank that hangs: the other gives up after the collective timeout (3 s here) with exit code 5.
TEST(DataParallel, AHungRankStopsTheOthersAfterTheTimeout) {
  TestDir dir;
  const auto start = std::chrono::steady_clock::now();
  std::string out;
  // The hung rank is killed by the test once the other has stopped (it would sleep 10 minutes).
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const int port = dist::free_local_port();
  const std::string common = fmt::format(
      "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT={} OQA_DIST_TEST_OUT={} OQA_DIST_TEST_TIMEOUT_MS=3000 "
      "OQA_DIST_TEST_FAULTY_RANK=1 OQA_DIST_TEST_HANG_AT=2 OMP_NUM_THREADS=1",
      port, dir.path.string());
  const std::string cmd = fmt::format(
      "env RANK=1 {0} {1} --gtest_filter=DataParallelRank.Train >{2}/log1 2>&1 & hung=$!; "
      "env RANK=0 {0} {1} --gtest_filter=DataParallelRank.Train >{2}/log0 2>&1; echo $? >{2}/code0; "
      "kill -9 $hung; wait",
      common, self, dir.path.string());
  test::run_command(cmd, out);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(std::stoi(slurp(dir.path / "code0")), static_cast<int>(util::ErrorKind::kDistributed))
      << slurp(dir.path / "log0");
  EXPECT_NE(slurp(dir.path / "rank0.err").find("rank 0 of 2"), std::string::npos);
  EXPECT_LT(seconds, 30.0);
}

TEST(WorldFromEnv, BadValuesNameTheVariable) {
  ::setenv("WORLD_SIZE", "two", 1);
  try {
    dist::world_from_env();
    ADD_FAILURE() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "WORLD_SIZE");
    EXPECT_EQ(e.field_value(), "two");
  }
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "2", 1);
  EXPECT_THROW(dist::world_from_env(), util::Error);
  ::setenv("RANK", "1", 1);
  ::setenv("MASTER_PORT", "29555", 1);
  const dist::WorldInfo w = dist::world_from_env();
  EXPECT_EQ(w.rank, 1);
  EXPECT_EQ(w.world_size, 2);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.master_port, 29555);
  EXPECT_EQ(w.local_world_size, 2);      // default: every rank on this machine
  ::setenv("LOCAL_WORLD_SIZE", "3", 1);  // more local ranks than ranks
  EXPECT_THROW(dist::world_from_env(), util::Error);
  ::setenv("LOCAL_WORLD_SIZE", "1", 1);
  EXPECT_EQ(dist::world_from_env().local_world_size, 1);
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_PORT", "LOCAL_WORLD_SIZE"}) ::unsetenv(v);
  EXPECT_EQ(dist::world_from_env().world_size, 1);
}

}  // namespace
}  // namespace oqa
