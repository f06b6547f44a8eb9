// Atomic writes: content replaced whole; a child killed before the rename leaves the old file intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "test_dir.h"

namespace fs = std::filesystem;
using namespace oqa::util;

TEST(AtomicFile, WritesAndReplaces) {
  TestDir dir;
  auto p = dir.path / "sub" / "a.txt";
  atomic_write(p, "first");
  EXPECT_EQ(read_file(p), "first");
  atomic_write(p, "second, longer");
  EXPECT_EQ(read_file(p), "second, longer");
  for (auto& e : fs::directory_iterator(p.parent_path()))
    EXPECT_EQ(e.path().filename(), "a.txt") << "temporary file left behind";
}

TEST(AtomicFile, ChildKilledBeforeRenameKeepsOldFile) {
  TestDir dir;
  auto p = dir.path / "ckpt.bin";
  std::string old_content(1 << 20, 'o');
  atomic_write(p, old_content);
  for (int trial = 0; trial < 3; ++trial) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::string fresh(3 << 20, 'n');
      atomic_write(p, fresh, [] { ::kill(::getpid(), SIGKILL); });
      _exit(0);  // not reached
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    EXPECT_EQ(read_file(p), old_content) << "old file damaged on trial " << trial;
  }
}

TEST(AtomicFile, KilledAtRandomMomentsLeavesOldOrNew) {
  TestDir dir;
  auto p = dir.path / "f.bin";
  const std::string a(4 << 20, 'a'), b(4 << 20, 'b');
  atomic_write(p, a);
  for (int trial = 0; trial < 4; ++trial) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (;;) {
        atomic_write(p, b);
        atomic_write(p, a);
      }
    }
    usleep(20000 + 15000 * trial);
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::string got = read_file(p);
    EXPECT_TRUE(got == a || got == b) << "torn file of " << got.size() << " bytes";
  }
}

TEST(AtomicFile, ReadMissingFileNamesIt) {
  try {
    read_file("/nonexistent/oqa/file.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/oqa/file.json"), std::string::npos);
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
  }
}
