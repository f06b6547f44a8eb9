// Run directories through the CLI: `--force` removes only what oqa wrote and refuses a folder oqa did not
// make; a second `oqa train` on a run in use refuses at once; a lock file left by a killed process blocks
// nothing.
#include <unistd.h>

#include <fstream>

#include "oqa/pipeline/run_dir.h"
#include "oqa/util/atomic_file.h"
#include "supernet_test_support.h"
#include "util/run_command.h"

using namespace oqa;
namespace fs = std::filesystem;

namespace {

// A tiny config with one short float stage, written into dir; returns its path.
std::string write_tiny_config(const fs::path& dir) {
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"] = nlohmann::json::parse(R"([{"quant": "float", "epochs": 1, "lr": 0.05}])");
  const std::string path = (dir / "tiny.json").string();
  util::write_json(path, config);
  return path;
}

int oqa_train(const std::string& args, std::string& out) {
  return test::run_command(std::string(OQA_BINARY) + " --threads 1 --quiet train " + args, out);
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST(RunDir, ForceRefusesAFolderOqaDidNotMakeAndRemovesNothing) {
  TestDir dir;
  const std::string config = write_tiny_config(dir.path);
  const fs::path project = dir.path / "project";
  write_text(project / "config.json", "{\"mine\": true}\n");  // someone else's config.json
  write_text(project / "src" / "main.c", "int main(void) { return 0; }\n");
  std::string out;
  EXPECT_EQ(oqa_train("--config " + config + " --out " + project.string() + " --force", out), 3) << out;
  EXPECT_NE(out.find(project.string()), std::string::npos) << out;
  EXPECT_NE(out.find(".oqa-run marker"), std::string::npos) << out;
  EXPECT_EQ(util::read_file(project / "config.json"), "{\"mine\": true}\n");
  EXPECT_TRUE(fs::exists(project / "src" / "main.c"));
  EXPECT_FALSE(fs::exists(project / pipeline::kRunMarker));
}

TEST(RunDir, ForceStartsARunOverAndKeepsFilesOqaDidNotWrite) {
  TestDir dir;
  const std::string config = write_tiny_config(dir.path), run = (dir.path / "run").string();
  std::string out;
  ASSERT_EQ(oqa_train("--config " + config + " --out " + run, out), 0) << out;
  EXPECT_TRUE(pipeline::is_oqa_run(run));
  EXPECT_TRUE(fs::exists(run + "/float/checkpoints/last.pt"));
  write_text(run + "/notes.txt", "my notes\n");
  write_text(run + "/data/train.csv", "1,2\n");
  write_text(run + "/search/w2a2/best.json", "{}\n");  // an oqa output folder: removed with the run
  const auto before = fs::last_write_time(run + "/float/checkpoints/last.pt");
  out.clear();
  ASSERT_EQ(oqa_train("--config " + config + " --out " + run + " --force", out), 0) << out;
  EXPECT_EQ(util::read_file(run + "/notes.txt"), "my notes\n");
  EXPECT_TRUE(fs::exists(run + "/data/train.csv"));
  EXPECT_FALSE(fs::exists(run + "/search"));
  EXPECT_TRUE(pipeline::is_oqa_run(run));
  EXPECT_NE(fs::last_write_time(run + "/float/checkpoints/last.pt"), before);  // trained again
}

TEST(RunDir, SecondTrainOnARunInUseRefusesAndAStaleLockBlocksNothing) {
  TestDir dir;
  const std::string config = write_tiny_config(dir.path), run = (dir.path / "run").string();
  std::string out;
  {
    util::FileLock held = pipeline::lock_run((fs::create_directories(run), run));  // "another oqa process"
    EXPECT_EQ(oqa_train("--config " + config + " --out " + run, out), 3) << out;
    EXPECT_NE(out.find("in use by another oqa process (pid " + std::to_string(::getpid()) + ")"),
              std::string::npos)
        << out;
    EXPECT_FALSE(fs::exists(run + "/config.json"));
  }
  // The holder is gone but its lock file (with its pid) stays, as after a kill -9: a run starts and resumes.
  ASSERT_TRUE(fs::exists(run + "/" + pipeline::kRunLock));
  out.clear();
  ASSERT_EQ(oqa_train("--config " + config + " --out " + run, out), 0) << out;
  {
    util::FileLock held = pipeline::lock_run(run);
    out.clear();
    EXPECT_EQ(oqa_train("--resume " + run, out), 3) << out;
    EXPECT_NE(out.find("in use"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(oqa_train("--config " + config + " --out " + run + " --force", out), 3) << out;
    EXPECT_TRUE(fs::exists(run + "/float/checkpoints/last.pt"));  // --force did not remove a run in use
  }
  out.clear();
  EXPECT_EQ(oqa_train("--resume " + run, out), 0) << out;
}

TEST(RunDir, FileLockExcludesASecondHolderUntilReleased) {
  TestDir dir;
  const fs::path path = dir.path / "lock";
  util::FileLock a, b;
  ASSERT_TRUE(a.try_lock(path));
  std::string holder;
  EXPECT_FALSE(b.try_lock(path, &holder));
  EXPECT_EQ(holder, std::to_string(::getpid()));
  EXPECT_FALSE(b.locked());
  a.unlock();
  EXPECT_TRUE(b.try_lock(path));
  util::FileLock c = std::move(b);  // moving keeps the lock held
  EXPECT_TRUE(c.locked());
  EXPECT_FALSE(a.try_lock(path));
}
