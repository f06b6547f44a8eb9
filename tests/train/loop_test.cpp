// TrainLoop tests: a crashed and resumed stage ends exactly where an uninterrupted one does; NaN or a full disk
// stops with the last checkpoint intact; a checkpoint of another config is refused; a finished stage is not
// rerun; metrics are appended.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "oqa/train/checkpoint.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "train/train_fixture.h"
#include "util/test_dir.h"

namespace oqa::train {
namespace {

using testing::flat_state;
using testing::TinyStage;

// Records of metrics.jsonl that carry a training step (not epoch ends).
std::vector<int64_t> logged_steps(const std::string& dir) {
  MetricsLog log(dir + "/metrics.jsonl");
  std::vector<int64_t> steps;
  for (const auto& r : log.records())
    if (!r.contains("event")) steps.push_back(r["step"].get<int64_t>());
  return steps;
}

// Tolerance: none. The per-step seed, the loader order and the restored optimizer state make the resumed
// run replay the same float operations in the same order; these tensors are too small for LibTorch to split
// across threads, so results are bit-identical.
TEST(TrainLoop, CrashedAndResumedRunEqualsUninterrupted) {
  TestDir a_dir, b_dir;
  TinyStage a{a_dir.path.string()};
  const torch::Tensor reference = flat_state(*a.run());

  TinyStage b{b_dir.path.string()};
  bool resumed = true;
  EXPECT_THROW(b.run(8, &resumed), std::runtime_error);  // crash after the epoch-end checkpoint (7 batches/epoch)
  EXPECT_FALSE(resumed);
  EXPECT_EQ(read_checkpoint_meta(b.dir + "/float/checkpoints/last.pt").step, 7);
  EXPECT_THROW(b.run(10, &resumed), std::runtime_error);  // crash again after the checkpoint at step 9
  EXPECT_TRUE(resumed);
  const torch::Tensor got = flat_state(*b.run(-1, &resumed));
  EXPECT_TRUE(resumed);
  EXPECT_TRUE(torch::equal(got, reference)) << (got - reference).abs().max().item<double>();
  EXPECT_EQ(logged_steps(b.dir), logged_steps(a.dir));  // redone steps logged once
}

// A fractional stage (1.5 epochs of 7 batches) trains round(10.5) = 11 steps: one whole epoch and 4 batches of
// the second, ends finished, and a crash inside the cut epoch resumes to the same weights.
TEST(TrainLoop, FractionalEpochsStopAtTheirStepCount) {
  TestDir a_dir, b_dir;
  TinyStage a{a_dir.path.string()};
  a.epochs = 1.5;
  const torch::Tensor reference = flat_state(*a.run());
  const CheckpointMeta meta = read_checkpoint_meta(a.dir + "/float/checkpoints/last.pt");
  EXPECT_EQ(meta.step, 11);
  EXPECT_EQ(meta.epoch, 2);
  EXPECT_EQ(meta.extra.value("done", false), true);
  TinyStage b{b_dir.path.string()};
  b.epochs = 1.5;
  EXPECT_THROW(b.run(10), std::runtime_error);  // after the checkpoint at step 9, inside the cut epoch
  EXPECT_TRUE(torch::equal(flat_state(*b.run()), reference));
}

TEST(TrainLoop, ResumeWithoutWorkersMatchesTooAndFinishedStageIsNotRerun) {
  TestDir a_dir, b_dir;
  TinyStage a{a_dir.path.string()};
  const torch::Tensor reference = flat_state(*a.run());
  TinyStage b{b_dir.path.string()};
  b.workers = 0;  // data order must not depend on the worker count
  EXPECT_THROW(b.run(5), std::runtime_error);
  EXPECT_TRUE(torch::equal(flat_state(*b.run()), reference));
  bool resumed = false;
  EXPECT_TRUE(torch::equal(flat_state(*b.run(0, &resumed)), reference));  // step 0 would throw if rerun
  EXPECT_TRUE(resumed);
}

TEST(TrainLoop, NanLossStopsWithMessageAndKeepsLastCheckpoint) {
  TestDir dir;
  TinyStage s{dir.path.string()};
  const std::string ckpt = s.dir + "/float/checkpoints/last.pt";
  ::setenv("OQA_DEBUG_NAN_AT_STEP", "4", 1);
  try {
    s.run();
    ::unsetenv("OQA_DEBUG_NAN_AT_STEP");
    FAIL() << "no error";
  } catch (const util::Error& e) {
    ::unsetenv("OQA_DEBUG_NAN_AT_STEP");
    EXPECT_EQ(e.kind(), util::ErrorKind::kNumeric);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nan at step 4"), std::string::npos) << msg;
    EXPECT_NE(msg.find(ckpt), std::string::npos) << msg;
  }
  EXPECT_EQ(read_checkpoint_meta(ckpt).step, 3);
  testing::TinyNet net;
  EXPECT_NO_THROW(load_checkpoint(ckpt, *net, nullptr));
  // The run goes on from there once the cause is gone.
  bool resumed = false;
  s.run(-1, &resumed);
  EXPECT_TRUE(resumed);
  EXPECT_TRUE(read_checkpoint_meta(ckpt).extra.value("done", false));
}

// A full disk during a checkpoint (the hook cuts the second checkpoint write half-way): a clear error naming
// the checkpoint, the previous checkpoint intact, no temporary file left, and the run resumes to the end.
TEST(TrainLoop, FullDiskDuringACheckpointKeepsThePreviousOneAndResumes) {
  TestDir a_dir, b_dir;
  TinyStage a{a_dir.path.string()};
  const torch::Tensor reference = flat_state(*a.run());
  TinyStage b{b_dir.path.string()};
  const std::string ckpt = b.dir + "/float/checkpoints/last.pt";
  for (const char* hook : {"last.pt:2", "metrics.jsonl:3"}) {  // the weights, then the metrics' append
    ::setenv("OQA_DEBUG_ENOSPC", hook, 1);
    try {
      b.run();
      FAIL() << hook << ": no error";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.kind(), util::ErrorKind::kInput);
      EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
      EXPECT_NE(e.file_name().find(std::string(hook).substr(0, std::string(hook).find(':'))), std::string::npos)
          << e.what();
    }
    ::unsetenv("OQA_DEBUG_ENOSPC");
    const CheckpointMeta meta = read_checkpoint_meta(ckpt);  // the previous one, whole
    EXPECT_GT(meta.step, 0) << hook;
    EXPECT_FALSE(meta.extra.value("done", false)) << hook;
    for (const auto& f : std::filesystem::directory_iterator(b.dir + "/float/checkpoints"))
      EXPECT_EQ(f.path().filename(), "last.pt") << hook;
  }
  bool resumed = false;
  EXPECT_TRUE(torch::equal(flat_state(*b.run(-1, &resumed)), reference));
  EXPECT_TRUE(resumed);
  EXPECT_EQ(logged_steps(b.dir), logged_steps(a.dir));  // the cut metrics line dropped, redone steps once
}

TEST(MetricsLog, FlushAppendsNewLinesAndRewritesOnlyAfterATruncation) {
  TestDir dir;
  const std::string path = (dir.path / "metrics.jsonl").string();
  MetricsLog log(path);
  log.append({{"stage", "float"}, {"step", 1}});
  log.append({{"stage", "float"}, {"step", 2}});
  log.flush();
  const std::string first = util::read_file(path);
  const auto inode = [&] {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_ino;
  };
  const auto before = inode();
  log.append({{"stage", "float"}, {"step", 3}});
  log.flush();
  const std::string second = util::read_file(path);
  EXPECT_EQ(second.substr(0, first.size()), first);
  EXPECT_EQ(second.substr(first.size()), "{\"stage\":\"float\",\"step\":3}\n");
  EXPECT_EQ(inode(), before);  // the same file, appended to (an atomic rewrite makes a new one)
  {
    std::FILE* f = std::fopen(path.c_str(), "a");
    std::fputs("{\"stage\":\"float\",\"st", f);  // an append cut by a crash
    std::fclose(f);
  }
  MetricsLog reread(path);
  ASSERT_EQ(reread.records().size(), 3u);
  reread.truncate_after("float", 1);
  reread.append({{"stage", "float"}, {"step", 2}});
  reread.flush();
  EXPECT_EQ(util::read_file(path), "{\"stage\":\"float\",\"step\":1}\n{\"stage\":\"float\",\"step\":2}\n");
  std::FILE* f = std::fopen(path.c_str(), "a");
  std::fputs("not json\n{\"stage\":\"float\",\"step\":3}\n", f);  // a corrupt line before the last
  std::fclose(f);
  EXPECT_THROW(MetricsLog{path}, util::Error);
}

TEST(TrainLoop, CheckpointOfAnotherConfigIsRefused) {
  TestDir dir;
  TinyStage s{dir.path.string()};
  EXPECT_THROW(s.run(4), std::runtime_error);
  TinyStage other = s;
  other.hash = "hash-b";
  try {
    other.run();
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), s.dir + "/float/checkpoints/last.pt");
    EXPECT_NE(std::string(e.what()).find("different config"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace oqa::train
